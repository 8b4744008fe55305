package evaluation

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseQrels(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		binary  bool
		want    map[string]map[string]int
		order   []string
		wantErr string
	}{
		{
			name:  "header skipped",
			in:    "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\n",
			want:  map[string]map[string]int{"q1": {"d1": 2, "d2": 0}},
			order: []string{"q1"},
		},
		{
			name:  "no header",
			in:    "q2 d1 1\nq1 d1 3\n",
			want:  map[string]map[string]int{"q2": {"d1": 1}, "q1": {"d1": 3}},
			order: []string{"q2", "q1"},
		},
		{
			name:  "negative first score is data",
			in:    "q1\td1\t-1\n",
			want:  map[string]map[string]int{"q1": {"d1": -1}},
			order: []string{"q1"},
		},
		{
			name:  "non-integer first score is a header",
			in:    "q1\td1\t1.5\nq1\td2\t1\n",
			want:  map[string]map[string]int{"q1": {"d2": 1}},
			order: []string{"q1"},
		},
		{
			name:  "short and blank lines skipped",
			in:    "q1\td1\t1\n\nq1 d2\nq2\td1\t1\textra\n",
			want:  map[string]map[string]int{"q1": {"d1": 1}, "q2": {"d1": 1}},
			order: []string{"q1", "q2"},
		},
		{
			name:  "later judgment wins, order of first appearance",
			in:    "b d1 1\na d1 1\nb d1 4\n",
			want:  map[string]map[string]int{"b": {"d1": 4}, "a": {"d1": 1}},
			order: []string{"b", "a"},
		},
		{
			name:   "binary",
			in:     "q1\td1\t4\nq1\td2\t1\nq1\td3\t0\nq1\td4\t-1\n",
			binary: true,
			want:   map[string]map[string]int{"q1": {"d1": 1, "d2": 1, "d3": 0, "d4": 0}},
			order:  []string{"q1"},
		},
		{
			name:  "crlf and lone cr",
			in:    "id\tdoc\tscore\r\nq1\td1\t1\rq1\td2\t2\r\n",
			want:  map[string]map[string]int{"q1": {"d1": 1, "d2": 2}},
			order: []string{"q1"},
		},
		{
			name:    "non-integer score after the first line",
			in:      "q1\td1\t1\nq1\td2\thigh\n",
			wantErr: "line 2",
		},
		{
			name:    "header not on the first line",
			in:      "\nquery-id\tcorpus-id\tscore\n",
			wantErr: "line 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := parseQrels(strings.NewReader(tt.in), tt.binary)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := q.QueryIDs(); !slices.Equal(got, tt.order) {
				t.Errorf("QueryIDs = %q, want %q", got, tt.order)
			}
			for qid, want := range tt.want {
				if got := q.Gains(qid); !maps.Equal(got, want) {
					t.Errorf("Gains(%s) = %v, want %v", qid, got, want)
				}
			}
		})
	}
}

func TestLoadQrels(t *testing.T) {
	q, err := LoadQrels(filepath.Join("testdata", "qrels.tsv"), false)
	if err != nil {
		t.Fatal(err)
	}
	if q.Len() != 30 {
		t.Errorf("Len = %d, want 30", q.Len())
	}
	if _, err := LoadQrels(filepath.Join("testdata", "missing.tsv"), false); err == nil {
		t.Error("LoadQrels of a missing file: want error")
	}
}

func TestQrelsZeroValue(t *testing.T) {
	var q Qrels
	if q.Gains("q") != nil || q.Len() != 0 || len(q.QueryIDs()) != 0 {
		t.Error("zero Qrels is not empty")
	}
	q.Add("q", "d", 2)
	if q.Gains("q")["d"] != 2 {
		t.Error("Add on zero Qrels lost the judgment")
	}
}

// TestLoadLabelled reads both files, and a missing one is an error that
// says which it is.
func TestLoadLabelled(t *testing.T) {
	dir := t.TempDir()
	queries := filepath.Join(dir, "queries.jsonl")
	if err := os.WriteFile(queries, []byte(`{"_id": "q1", "text": "whales"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	qs, qrels, err := LoadLabelled(queries, filepath.Join("testdata", "qrels.tsv"), false)
	if err != nil || len(qs) != 1 || qrels.Len() == 0 {
		t.Fatalf("LoadLabelled = %d queries, %d judged, %v", len(qs), qrels.Len(), err)
	}
	if _, _, err := LoadLabelled(queries, filepath.Join(dir, "none.tsv"), false); err == nil || !strings.Contains(err.Error(), "qrels") {
		t.Errorf("missing qrels: %v, want an error naming the qrels", err)
	}
	if _, _, err := LoadLabelled(filepath.Join(dir, "none.jsonl"), filepath.Join("testdata", "qrels.tsv"), false); err == nil || !strings.Contains(err.Error(), "queries") {
		t.Errorf("missing queries: %v, want an error naming the queries", err)
	}
}
