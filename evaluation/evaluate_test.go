package evaluation

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// testdata/expected.json holds score_run.py's figures for the fixture;
// regenerate it by hand with "sh testdata/expected.sh" (needs python3 and
// ../shared), not with go generate, which must work without them.

func TestEvaluate(t *testing.T) {
	var qrels Qrels
	qrels.Add("q1", "a", 1)
	qrels.Add("q1", "b", 0)
	qrels.Add("q2", "c", 2) // absent from the run
	qrels.Add("q3", "x", 0) // nothing relevant: not evaluated
	qrels.Add("q4", "e", 1) // empty ranking: absent from the run
	run := Run{
		"q1":    {{"b", 2}, {"a", 1}},
		"q3":    {{"x", 1}},
		"q4":    {},
		"extra": {{"a", 1}}, // not judged: ignored
	}
	got := Evaluate(run, qrels)
	wantNDCG := 1 / l2(3)
	want := Summary{
		NDCG10:       wantNDCG / 3,
		Recall100:    1.0 / 3,
		MRR10:        0.5 / 3,
		Queries:      3,
		QueriesInRun: 1,
		PerQuery: []QueryScore{
			{QueryID: "q1", NDCG10: wantNDCG, Recall100: 1, MRR10: 0.5, InRun: true},
			{QueryID: "q2"},
			{QueryID: "q4"},
		},
	}
	if !summariesClose(got, want, 1e-12) {
		t.Errorf("Evaluate = %+v\nwant %+v", got, want)
	}
}

func TestEvaluateEmpty(t *testing.T) {
	var qrels Qrels
	qrels.Add("q1", "a", 1)
	tests := []struct {
		name  string
		run   Run
		qrels Qrels
		want  Summary
	}{
		{"empty run", Run{}, qrels, Summary{Queries: 1, PerQuery: []QueryScore{{QueryID: "q1"}}}},
		{"nil run", nil, qrels, Summary{Queries: 1, PerQuery: []QueryScore{{QueryID: "q1"}}}},
		{"empty qrels", Run{"q1": {{"a", 1}}}, Qrels{}, Summary{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(tt.run, tt.qrels); !summariesClose(got, tt.want, 0) {
				t.Errorf("Evaluate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// reference is one mode of testdata/expected.json, written by score_run.py.
type reference struct {
	Summary  scorerFigures            `json:"summary"`
	PerQuery map[string]scorerFigures `json:"per_query"`
}

// scorerFigures is score_run.py's JSON output for a run or a query.
type scorerFigures struct {
	NDCG10       float64 `json:"ndcg@10"`
	Recall100    float64 `json:"recall@100"`
	MRR10        float64 `json:"mrr@10"`
	Queries      int     `json:"num_q"`
	QueriesInRun int     `json:"num_q_in_run"`
}

// TestEvaluateMatchesScorer checks the figures on testdata/run.trec against those the
// reference scorer printed for it, and, where the scorer and python3 are at hand, against the
// scorer run now on that file and on a generated run over the cranfield judgments.
func TestEvaluateMatchesScorer(t *testing.T) {
	var expected map[string]json.RawMessage
	readJSON(t, filepath.Join("testdata", "expected.json"), &expected)
	for _, mode := range []string{"graded", "binary"} {
		t.Run("golden/"+mode, func(t *testing.T) {
			var ref reference
			if err := json.Unmarshal(expected[mode], &ref); err != nil {
				t.Fatal(err)
			}
			got := evaluateFiles(t, filepath.Join("testdata", "run.trec"), filepath.Join("testdata", "qrels.tsv"), mode == "binary")
			compareFigures(t, got, ref.Summary, 1e-9)
			comparePerQuery(t, got, ref.PerQuery)
		})
	}
	t.Run("live", func(t *testing.T) {
		scorer := filepath.Join(sharedDir(t), "datasets", "eval", "score_run.py")
		python, err := exec.LookPath("python3")
		if _, serr := os.Stat(scorer); serr != nil || err != nil {
			t.Skipf("reference scorer not runnable here (scorer: %v, python3: %v)", serr, err)
		}
		var cases []struct{ name, run, qrels string }
		// The golden cases above hold what the scorer printed for the
		// fixture; -short trusts them instead of starting python3 for it.
		if !testing.Short() {
			cases = append(cases, struct{ name, run, qrels string }{"fixture", filepath.Join("testdata", "run.trec"), filepath.Join("testdata", "qrels.tsv")})
		}
		cranfield := filepath.Join(sharedDir(t), "datasets", "cranfield", "qrels.tsv")
		if _, err := os.Stat(cranfield); err == nil {
			cases = append(cases, struct{ name, run, qrels string }{"cranfield", writeRandomRun(t, cranfield), cranfield})
		}
		for _, c := range cases {
			for _, binary := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/binary=%v", c.name, binary), func(t *testing.T) {
					// Each case waits mostly on starting python3: they overlap.
					t.Parallel()
					args := []string{scorer, c.run, c.qrels, "--json"}
					if binary {
						args = append(args, "--binary")
					}
					out, err := exec.CommandContext(t.Context(), python, args...).Output()
					if err != nil {
						t.Fatalf("score_run.py: %v", err)
					}
					var want scorerFigures
					if err := json.Unmarshal(out, &want); err != nil {
						t.Fatalf("score_run.py output %q: %v", out, err)
					}
					compareFigures(t, evaluateFiles(t, c.run, c.qrels, binary), want, 1e-9)
				})
			}
		}
	})
}

// writeRandomRun writes, with WriteRun, a reproducible run over the queries of a qrels file:
// judged and unjudged documents at scores with many ties, some lists past 100 documents.
func writeRandomRun(t *testing.T, qrelsPath string) string {
	t.Helper()
	qrels, err := LoadQrels(qrelsPath, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	run := make(Run)
	for _, qid := range qrels.QueryIDs() {
		if rng.IntN(20) == 0 {
			continue
		}
		for doc := range qrels.Gains(qid) {
			if rng.IntN(3) > 0 {
				run.Add(qid, doc, float64(rng.IntN(40))/4)
			}
		}
		for range rng.IntN(150) {
			run.Add(qid, fmt.Sprint(1+rng.IntN(1400)), float64(rng.IntN(40))/4)
		}
	}
	path := filepath.Join(t.TempDir(), "random.trec")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WriteRun(f, run, "random"); err != nil {
		t.Fatal(err)
	}
	return path
}

// evaluateFiles evaluates a run file against a qrels file.
func evaluateFiles(t *testing.T, runPath, qrelsPath string, binary bool) Summary {
	t.Helper()
	f, err := os.Open(runPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := ReadRun(f)
	if err != nil {
		t.Fatal(err)
	}
	qrels, err := LoadQrels(qrelsPath, binary)
	if err != nil {
		t.Fatal(err)
	}
	return Evaluate(run, qrels)
}

// compareFigures fails t when got differs from the scorer's figures by more than tol.
func compareFigures(t *testing.T, got Summary, want scorerFigures, tol float64) {
	t.Helper()
	for _, m := range []struct {
		name      string
		got, want float64
	}{
		{"nDCG@10", got.NDCG10, want.NDCG10},
		{"Recall@100", got.Recall100, want.Recall100},
		{"MRR@10", got.MRR10, want.MRR10},
	} {
		if math.Abs(m.got-m.want) > tol {
			t.Errorf("%s = %.17g, scorer %.17g", m.name, m.got, m.want)
		}
	}
	if got.Queries != want.Queries || got.QueriesInRun != want.QueriesInRun {
		t.Errorf("queries = %d (in run %d), scorer %d (in run %d)",
			got.Queries, got.QueriesInRun, want.Queries, want.QueriesInRun)
	}
}

// comparePerQuery checks per-query figures against the scorer's, which it prints rounded to
// four decimals.
func comparePerQuery(t *testing.T, got Summary, want map[string]scorerFigures) {
	t.Helper()
	if len(got.PerQuery) != len(want) {
		t.Errorf("%d queries evaluated, scorer %d", len(got.PerQuery), len(want))
	}
	const tol = 0.5e-4 + 1e-12
	for _, q := range got.PerQuery {
		w, ok := want[q.QueryID]
		switch {
		case !ok:
			t.Errorf("query %s evaluated, not by the scorer", q.QueryID)
		case math.Abs(q.NDCG10-w.NDCG10) > tol || math.Abs(q.Recall100-w.Recall100) > tol || math.Abs(q.MRR10-w.MRR10) > tol:
			t.Errorf("query %s: %.6f %.6f %.6f, scorer %.4f %.4f %.4f",
				q.QueryID, q.NDCG10, q.Recall100, q.MRR10, w.NDCG10, w.Recall100, w.MRR10)
		}
	}
}

// summariesClose reports whether two summaries agree, figures within tol.
func summariesClose(a, b Summary, tol float64) bool {
	close := func(x, y float64) bool { return math.Abs(x-y) <= tol }
	if !close(a.NDCG10, b.NDCG10) || !close(a.Recall100, b.Recall100) || !close(a.MRR10, b.MRR10) ||
		a.Queries != b.Queries || a.QueriesInRun != b.QueriesInRun || len(a.PerQuery) != len(b.PerQuery) {
		return false
	}
	for i, p := range a.PerQuery {
		q := b.PerQuery[i]
		if p.QueryID != q.QueryID || p.InRun != q.InRun ||
			!close(p.NDCG10, q.NDCG10) || !close(p.Recall100, q.Recall100) || !close(p.MRR10, q.MRR10) {
			return false
		}
	}
	return true
}

// readJSON decodes the JSON file at path into v.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// sharedDir returns the shared/ folder that sits beside the repository root, found as the
// nearest directory above the working directory holding go.mod. It may not exist.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
