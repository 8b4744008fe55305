package local

import (
	"reflect"
	"testing"

	"github.com/cari-search/cari/store"
)

func TestCorpusStats(t *testing.T) {
	tests := []struct {
		enc     string
		want    corpusStats
		avg     float64
		wantErr bool
	}{
		{"", corpusStats{}, 0, false},
		{`{"docs":4,"body_tokens":10,"chunks":6}`, corpusStats{Docs: 4, BodyTokens: 10, Chunks: 6}, 2.5, false},
		{`{"docs":4,"body_tokens":10,"chunks":6,"fields":{"body":{"docs":3,"tokens":9},"body_id":{"docs":1,"tokens":1}}}`,
			corpusStats{Docs: 4, BodyTokens: 10, Chunks: 6, Fields: map[string]fieldStats{store.FieldBody: {3, 9}, store.FieldBodyID: {1, 1}}}, 2.5, false},
		{`{"docs":0,"body_tokens":0}`, corpusStats{}, 0, false},
		{`{"docs":`, corpusStats{}, 0, true},
	}
	for _, tt := range tests {
		got, err := decodeStats([]byte(tt.enc))
		if (err != nil) != tt.wantErr {
			t.Errorf("decodeStats(%q) error = %v, want error %v", tt.enc, err, tt.wantErr)
			continue
		}
		if err == nil && (!reflect.DeepEqual(got, tt.want) || got.avgBodyLen() != tt.avg) {
			t.Errorf("decodeStats(%q) = %+v (avg %v), want %+v (avg %v)", tt.enc, got, got.avgBodyLen(), tt.want, tt.avg)
		}
	}
}

// TestCorpusStatsByField checks that adding and removing documents keeps
// each body field's count and length, so that a field's IDF and average
// length describe only its own documents.
func TestCorpusStatsByField(t *testing.T) {
	var s corpusStats
	s.add(docShare{field: store.FieldBody, tokens: 10, chunks: 2})
	s.add(docShare{field: store.FieldBody, tokens: 20, chunks: 1})
	s.add(docShare{field: store.FieldBodyID, tokens: 6, chunks: 1})
	if n, avg := s.field(store.FieldBody); n != 2 || avg != 15 {
		t.Errorf("English field: %d docs, avgdl %v; want 2, 15", n, avg)
	}
	if n, avg := s.field(store.FieldBodyID); n != 1 || avg != 6 {
		t.Errorf("Indonesian field: %d docs, avgdl %v; want 1, 6", n, avg)
	}
	if n, avg := s.field(store.FieldBodyCJK); n != 0 || avg != 0 {
		t.Errorf("empty CJK field: %d docs, avgdl %v; want 0, 0", n, avg)
	}
	s.remove(docShare{field: store.FieldBodyID, tokens: 6, chunks: 1})
	if _, ok := s.Fields[store.FieldBodyID]; ok || s.Docs != 2 || s.BodyTokens != 30 || s.Chunks != 3 {
		t.Errorf("after removing the Indonesian document: %+v", s)
	}
}
