package evaluation

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestRankingRanked(t *testing.T) {
	tests := []struct {
		name string
		in   Ranking
		want []string
	}{
		{"score descending", Ranking{{"a", 1}, {"b", 3}, {"c", 2}}, []string{"b", "c", "a"}},
		{"ties by doc id descending", Ranking{{"d1", 5}, {"d3", 5}, {"d2", 5}, {"x", 9}}, []string{"x", "d3", "d2", "d1"}},
		{"byte order, lower case after upper", Ranking{{"D1", 1}, {"d1", 1}, {"a", 1}}, []string{"d1", "a", "D1"}},
		{"equal values written differently tie", Ranking{{"a", 12}, {"b", 12.0}}, []string{"b", "a"}},
		{"duplicate keeps its best score", Ranking{{"a", 1}, {"b", 2}, {"a", 3}, {"a", 0}}, []string{"a", "b"}},
		{"negative and infinite scores", Ranking{{"a", -1}, {"b", math.Inf(1)}, {"c", math.Inf(-1)}}, []string{"b", "a", "c"}},
		{"NaN last", Ranking{{"a", math.NaN()}, {"b", -5}}, []string{"b", "a"}},
		{"empty", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := slices.Clone(tt.in)
			if got := tt.in.Ranked(); !slices.Equal(got, tt.want) {
				t.Errorf("Ranked = %q, want %q", got, tt.want)
			}
			if !slices.EqualFunc(orig, tt.in, func(a, b Result) bool {
				return a.DocID == b.DocID && (a.Score == b.Score || math.IsNaN(a.Score))
			}) {
				t.Error("Ranked modified the ranking")
			}
		})
	}
}

func TestRunAdd(t *testing.T) {
	run := make(Run)
	run.Add("q1", "d1", 2)
	run.Add("q1", "d2", 1)
	var r Ranking
	r.Add("d9", 0.5)
	run["q2"] = r
	if got := run["q1"].Ranked(); !slices.Equal(got, []string{"d1", "d2"}) {
		t.Errorf("q1 = %q", got)
	}
	if got := run["q2"].Ranked(); !slices.Equal(got, []string{"d9"}) {
		t.Errorf("q2 = %q", got)
	}
}

func TestReadRun(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]Ranking
		wantErr string
	}{
		{
			name: "fields and blank lines",
			in:   "q1 Q0 d1 1 2.5 tag\n\nq1\tQ0\td2\t7\t-1e-3\ttag\r\nq2 Q0 d1 1 3 tag extra\n",
			want: map[string]Ranking{"q1": {{"d1", 2.5}, {"d2", -0.001}}, "q2": {{"d1", 3}}},
		},
		{
			name: "short lines skipped",
			in:   "q1 Q0 d1 1 2.5\nq2 Q0 d2 1 1 t\n",
			want: map[string]Ranking{"q2": {{"d2", 1}}},
		},
		{
			name: "infinities",
			in:   "q Q0 a 1 inf t\nq Q0 b 2 -Infinity t\nq Q0 c 3 1e400 t\n",
			want: map[string]Ranking{"q": {{"a", math.Inf(1)}, {"b", math.Inf(-1)}, {"c", math.Inf(1)}}},
		},
		{name: "empty", in: "", want: map[string]Ranking{}},
		{name: "bad score", in: "q Q0 a 1 1 t\nq Q0 b 2 high t\n", wantErr: "line 2: score \"high\" is not a number"},
		{name: "NaN score", in: "q Q0 a 1 nan t\n", wantErr: "line 1: score \"nan\" is NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, err := ReadRun(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(run) != len(tt.want) {
				t.Errorf("run has %d queries, want %d", len(run), len(tt.want))
			}
			for qid, want := range tt.want {
				if !slices.Equal(run[qid], want) {
					t.Errorf("run[%s] = %v, want %v", qid, run[qid], want)
				}
			}
		})
	}
}

func TestWriteRun(t *testing.T) {
	run := Run{
		"q2": {{"d1", 1}, {"d2", 1}, {"d1", 0.1}},
		"q1": {{"a", 0.30000000000000004}, {"b", 1e-7}, {"c", math.Inf(-1)}},
	}
	var buf bytes.Buffer
	if err := WriteRun(&buf, run, "bm25"); err != nil {
		t.Fatal(err)
	}
	want := "q1 Q0 a 1 0.30000000000000004 bm25\n" +
		"q1 Q0 b 2 1e-07 bm25\n" +
		"q1 Q0 c 3 -Inf bm25\n" +
		"q2 Q0 d2 1 1 bm25\n" +
		"q2 Q0 d1 2 1 bm25\n"
	if buf.String() != want {
		t.Errorf("WriteRun wrote\n%s\nwant\n%s", buf.String(), want)
	}
	back, err := ReadRun(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for qid, r := range run {
		if !slices.Equal(back[qid].results(), r.results()) {
			t.Errorf("round trip of %s: %v, want %v", qid, back[qid].results(), r.results())
		}
	}
}

func TestWriteRunErrors(t *testing.T) {
	tests := []struct {
		name string
		run  Run
		tag  string
	}{
		{"empty tag", Run{"q": {{"d", 1}}}, ""},
		{"tag with space", Run{"q": {{"d", 1}}}, "my run"},
		{"query id with tab", Run{"q\t1": {{"d", 1}}}, "t"},
		{"empty doc id", Run{"q": {{"", 1}}}, "t"},
		{"doc id with space", Run{"q": {{"d 1", 1}}}, "t"},
		{"NaN score", Run{"q": {{"d", math.NaN()}}}, "t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := WriteRun(&bytes.Buffer{}, tt.run, tt.tag); err == nil {
				t.Error("WriteRun succeeded, want error")
			}
		})
	}
}
