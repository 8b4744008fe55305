package evaluation

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// A run whose relevance follows a known sigmoid of its scores gets that
// sigmoid back, and a well-calibrated map has a small calibration error.
func TestFitCalibration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const slope, intercept = 0.8, -4.0 // BM25-like scores, 0 to 10
	run, qrels := Run{}, Qrels{}
	for q := range 400 {
		qid := fmt.Sprint(q)
		for d := range 20 {
			did := fmt.Sprintf("%d-%d", q, d)
			s := rng.Float64() * 10
			run.Add(qid, did, s)
			if rng.Float64() < 1/(1+math.Exp(-(slope*s+intercept))) {
				qrels.Add(qid, did, 1)
			}
		}
		qrels.Add(qid, "unretrieved", 0) // every query is judged
	}
	c, err := FitCalibration(run, qrels, 100)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Slope-slope) > 0.1 || math.Abs(c.Intercept-intercept) > 0.5 || c.Pairs != 8000 {
		t.Errorf("fit %v, want slope %v, intercept %v over 8000 pairs", c, slope, intercept)
	}
	if e := CalibrationError(c, run, qrels, 100); e > 0.03 {
		t.Errorf("calibration error %.3f, want under 0.03", e)
	}
	if e := CalibrationError(Calibration{Slope: slope, Intercept: intercept + 3}, run, qrels, 100); e < 0.2 {
		t.Errorf("calibration error of a shifted map %.3f, want it large", e)
	}
}

func TestFitCalibrationRefuses(t *testing.T) {
	run, qrels := Run{}, Qrels{}
	run.Add("q", "a", 1)
	run.Add("q", "b", 2)
	qrels.Add("q", "x", 1)
	if _, err := FitCalibration(run, qrels, 10); err == nil {
		t.Error("no relevant result retrieved: want an error")
	}
	qrels.Add("q", "a", 1)
	qrels.Add("q", "b", 1)
	if _, err := FitCalibration(run, qrels, 10); err == nil {
		t.Error("every result relevant: want an error")
	}
}
