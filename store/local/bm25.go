package local

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cari-search/cari/store"
)

// fieldBM25 returns the BM25 parameters the store scores body field with.
func (o Options) fieldBM25(field string) store.BM25 {
	return store.FieldBM25(field, o.BM25, o.IndonesianBM25)
}

// corpusStats are the collection statistics BM25 needs. They are kept in the
// index's internal storage and updated in the same atomic batch as the
// documents, so they always describe the snapshot being searched. Each body
// field (one per analysis language) has its own document count and length:
// a field's IDF and average length describe the documents analysed alike.
type corpusStats struct {
	Docs       int64                 `json:"docs"`
	BodyTokens int64                 `json:"body_tokens"`
	Chunks     int64                 `json:"chunks"`
	Fields     map[string]fieldStats `json:"fields,omitempty"`
	// LastWrite is when the batch that wrote these statistics committed
	// (store.Stats.LastWrite): kept with them, it costs no write of its
	// own and is as durable as the documents.
	LastWrite time.Time `json:"last_write,omitzero"`
}

// fieldStats are one body field's share of the collection.
type fieldStats struct {
	Docs   int64 `json:"docs"`
	Tokens int64 `json:"tokens"`
}

// docShare is what one document contributes to the statistics.
type docShare struct {
	field          string
	tokens, chunks int64
	// fingerprint is not a statistic: it is the stored document's
	// store.Fingerprint, read with the rest so that a write can skip an
	// unchanged document ("" for one stored before fingerprints were).
	fingerprint string
}

var statsKey = []byte("cari:stats")

func (s corpusStats) avgBodyLen() float64 {
	if s.Docs <= 0 {
		return 0
	}
	return float64(s.BodyTokens) / float64(s.Docs)
}

// field returns the document count and average analysed length of a body
// field.
func (s corpusStats) field(name string) (docs int64, avgdl float64) {
	f := s.Fields[name]
	if f.Docs <= 0 {
		return 0, 0
	}
	return f.Docs, float64(f.Tokens) / float64(f.Docs)
}

func (s *corpusStats) add(d docShare) {
	s.Docs++
	s.BodyTokens += d.tokens
	s.Chunks += d.chunks
	if s.Fields == nil {
		s.Fields = map[string]fieldStats{}
	}
	f := s.Fields[d.field]
	f.Docs++
	f.Tokens += d.tokens
	s.Fields[d.field] = f
}

func (s *corpusStats) remove(d docShare) {
	s.Docs--
	s.BodyTokens -= d.tokens
	s.Chunks -= d.chunks
	f := s.Fields[d.field]
	f.Docs--
	f.Tokens -= d.tokens
	if f.Docs <= 0 {
		delete(s.Fields, d.field)
		return
	}
	s.Fields[d.field] = f
}

func decodeStats(b []byte) (corpusStats, error) {
	var s corpusStats
	if len(b) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode corpus statistics: %w", err)
	}
	return s, nil
}
