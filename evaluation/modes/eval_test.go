package modes

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/evaluation"
	"github.com/cari-search/cari/searcher"
)

// TestEvalRun: each query is searched in the mode and scored against the
// qrels; a refused query scores 0 and is listed; the run file and the
// calibration are there when asked for.
func TestEvalRun(t *testing.T) {
	s := searcher.New(termStore{ids: []string{"alpha", "beta", "gamma"}}, searcher.Options{})
	var qrels evaluation.Qrels
	qrels.Add("q1", "alpha", 1)
	qrels.Add("q2", "gamma", 1)
	qrels.Add("q3", "beta", 1)
	runFile := filepath.Join(t.TempDir(), "run.trec")
	e := Eval{
		Mode: "keyword", Qrels: qrels, Workers: 2, RunFile: runFile, Calibrate: true,
		Queries: []evaluation.Query{{ID: "q1", Text: "alpha"}, {ID: "q2", Text: "beta gamma"}, {ID: "q3", Text: ""}},
	}
	res, err := e.Run(t.Context(), s, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Queries != 3 || len(res.Refused) != 1 || res.Refused[0].ID != "q3" {
		t.Errorf("outcome %+v, want 3 queries scored and q3 refused", res.Outcome)
	}
	// q1 finds alpha first; q2 finds beta, then gamma; q3 scores 0.
	if want := (1 + 1/1.5849625007211563) / 3; res.NDCG10 < want-1e-9 || res.NDCG10 > want+1e-9 {
		t.Errorf("nDCG@10 %v, want %v", res.NDCG10, want)
	}
	if b, err := os.ReadFile(runFile); err != nil || !strings.Contains(string(b), "q2 Q0 gamma 2 ") {
		t.Errorf("run file %q, %v; want q2's ranking", b, err)
	}
	var out bytes.Buffer
	if err := res.WriteCalibration(&out); err != nil || !strings.HasPrefix(out.String(), "calibration of keyword scores (top 10): ") {
		t.Errorf("calibration line %q, %v", out.String(), err)
	}
}

// TestEvalValidate names the field at fault before anything is opened.
func TestEvalValidate(t *testing.T) {
	for _, tc := range []struct {
		e     Eval
		field string
	}{
		{Eval{Mode: "hybrid", Fusion: "rrf"}, ""},
		{Eval{Mode: "bm25"}, "mode"},
		{Eval{Mode: "hybrid", Fusion: "max"}, "fusion"},
	} {
		err := tc.e.Validate()
		var fe *cari.FieldError
		if tc.field == "" && err != nil || tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
			t.Errorf("Validate(%+v) = %v, want field %q", tc.e, err, tc.field)
		}
	}
}
