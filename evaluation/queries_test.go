package evaluation

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseQueries(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Query
		wantErr string
	}{
		{
			name: "good, extra keys ignored, blank lines skipped",
			in:   "{\"_id\": \"1\", \"text\": \"first\"}\n\n  \n{\"_id\":\"2\",\"text\":\"\",\"metadata\":{}}\r\n",
			want: []Query{{"1", "first"}, {"2", ""}},
		},
		{
			name: "no final newline",
			in:   `{"_id": "1", "text": "a"}`,
			want: []Query{{"1", "a"}},
		},
		{name: "empty file", in: ""},
		{name: "bad json", in: "{\"_id\": \"1\", \"text\": \"a\"}\n{\"_id\": \"2\",\n", wantErr: "line 2"},
		{name: "missing _id", in: `{"text": "a"}`, wantErr: "line 1: missing _id"},
		{name: "null _id", in: `{"_id": null, "text": "a"}`, wantErr: "line 1: missing _id"},
		{name: "empty _id", in: `{"_id": "", "text": "a"}`, wantErr: "line 1: empty _id"},
		{name: "numeric _id", in: `{"_id": 7, "text": "a"}`, wantErr: "line 1"},
		{name: "missing text", in: `{"_id": "7"}`, wantErr: "line 1: query \"7\": missing text"},
		{name: "not an object", in: `["7", "a"]`, wantErr: "line 1"},
		{
			name:    "duplicate id",
			in:      "{\"_id\": \"1\", \"text\": \"a\"}\n{\"_id\": \"1\", \"text\": \"b\"}\n",
			wantErr: "line 2: query \"1\" already defined on line 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseQueries(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("queries = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadQueriesLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queries.jsonl")
	long := strings.Repeat("x", 1<<20)
	if err := os.WriteFile(path, []byte(`{"_id": "1", "text": "`+long+`"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	qs, err := LoadQueries(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || qs[0].Text != long {
		t.Errorf("got %d queries, want the one long query", len(qs))
	}
}

func TestLoadQueriesSciFact(t *testing.T) {
	path := filepath.Join(sharedDir(t), "datasets", "scifact", "queries.jsonl")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("scifact queries not available: %v", err)
	}
	qs, err := LoadQueries(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 300 {
		t.Errorf("loaded %d scifact queries, want 300", len(qs))
	}
}
