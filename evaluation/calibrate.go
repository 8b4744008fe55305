package evaluation

import (
	"errors"
	"fmt"
	"math"
)

// Calibration maps a system's score to the probability that the result is
// relevant: P = 1 / (1 + exp(-(Slope*score + Intercept))), Platt's
// sigmoid ("Probabilistic outputs for support vector machines", 1999). It
// is monotone, so it keeps every ranking, and a threshold on P means the
// same for every score scale it was fitted to.
type Calibration struct {
	Slope, Intercept float64
	// Pairs and Relevant count the (query, result) pairs it was fitted on
	// and the relevant ones among them.
	Pairs, Relevant int
}

// Probability is the calibrated score of a raw one.
func (c Calibration) Probability(score float64) float64 {
	return 1 / (1 + math.Exp(-(c.Slope*score + c.Intercept)))
}

func (c Calibration) String() string {
	return fmt.Sprintf("slope=%.6g intercept=%.6g pairs=%d relevant=%d", c.Slope, c.Intercept, c.Pairs, c.Relevant)
}

// calibrationPairs are the (score, relevant) pairs of the top depth
// results of every query that qrels judges.
func calibrationPairs(run Run, qrels Qrels, depth int) (scores []float64, relevant []bool) {
	for _, q := range qrels.QueryIDs() {
		gains := qrels.Gains(q)
		for _, r := range head(run[q].results(), depth) {
			scores = append(scores, r.Score)
			relevant = append(relevant, gains[r.DocID] > 0)
		}
	}
	return scores, relevant
}

// FitCalibration fits a Calibration to the top depth results of every
// query of qrels in run, by maximum likelihood with Platt's smoothed
// targets ((N+ + 1)/(N+ + 2) for a relevant result, 1/(N- + 2) for
// another), so that a run whose scores separate perfectly still gets a
// finite slope.
func FitCalibration(run Run, qrels Qrels, depth int) (Calibration, error) {
	scores, relevant := calibrationPairs(run, qrels, depth)
	pos := 0
	for _, r := range relevant {
		if r {
			pos++
		}
	}
	if pos == 0 || pos == len(scores) {
		return Calibration{}, errors.New("fit calibration: the run needs relevant and non-relevant results in its top ranks")
	}
	hi, lo := (float64(pos)+1)/(float64(pos)+2), 1/(float64(len(scores)-pos)+2)
	// Standardise the scores so that Newton's method starts well
	// conditioned whatever their scale (BM25 in the tens, RRF in
	// hundredths), then map the fit back.
	var mean, sd float64
	for _, s := range scores {
		mean += s
	}
	mean /= float64(len(scores))
	for _, s := range scores {
		sd += (s - mean) * (s - mean)
	}
	sd = math.Sqrt(sd / float64(len(scores)))
	if sd == 0 {
		return Calibration{}, errors.New("fit calibration: every score is the same")
	}
	x := make([]float64, len(scores))
	t := make([]float64, len(scores))
	for i, s := range scores {
		x[i], t[i] = (s-mean)/sd, lo
		if relevant[i] {
			t[i] = hi
		}
	}
	a, b := 0.0, math.Log((float64(pos)+1)/(float64(len(scores)-pos)+1))
	f := logLoss(x, t, a, b)
	for range 100 {
		// Newton's step on the negative log-likelihood, halved until it
		// lowers the loss (Lin, Lin and Weng's note on Platt's
		// algorithm, 2007), since a full step overshoots from far away.
		var ga, gb, haa, hab, hbb float64
		for i := range x {
			p := 1 / (1 + math.Exp(-(a*x[i] + b)))
			w := p * (1 - p)
			ga += (p - t[i]) * x[i]
			gb += p - t[i]
			haa += w * x[i] * x[i]
			hab += w * x[i]
			hbb += w
		}
		det := haa*hbb - hab*hab
		if det <= 0 {
			break
		}
		da, db := (hbb*ga-hab*gb)/det, (haa*gb-hab*ga)/det
		step := 1.0
		for ; step > 1e-10; step /= 2 {
			if nf := logLoss(x, t, a-step*da, b-step*db); nf < f+1e-4*step*(ga*da+gb*db) {
				a, b, f = a-step*da, b-step*db, nf
				break
			}
		}
		if step <= 1e-10 || math.Abs(step*da) < 1e-10 && math.Abs(step*db) < 1e-10 {
			break
		}
	}
	return Calibration{Slope: a / sd, Intercept: b - a*mean/sd, Pairs: len(scores), Relevant: pos}, nil
}

// logLoss is the negative log-likelihood of targets t under the sigmoid
// of a*x+b, computed without overflow for large |a*x+b|.
func logLoss(x, t []float64, a, b float64) float64 {
	var f float64
	for i := range x {
		z := a*x[i] + b
		// log(1+exp(z)) - t*z, stably.
		if z > 0 {
			f += z + math.Log1p(math.Exp(-z)) - t[i]*z
		} else {
			f += math.Log1p(math.Exp(z)) - t[i]*z
		}
	}
	return f
}

// CalibrationError is the expected calibration error of c on run: the
// pairs of the top depth results binned by calibrated score into ten
// equal-width bins, and the gap between each bin's mean probability and
// its share of relevant results, weighted by the bin's size. 0 is
// perfect.
func CalibrationError(c Calibration, run Run, qrels Qrels, depth int) float64 {
	scores, relevant := calibrationPairs(run, qrels, depth)
	var n [10]int
	var sumP, sumRel [10]float64
	for i, s := range scores {
		p := c.Probability(s)
		bin := min(int(p*10), 9)
		n[bin]++
		sumP[bin] += p
		if relevant[i] {
			sumRel[bin]++
		}
	}
	var ece float64
	for i := range n {
		if n[i] > 0 {
			ece += math.Abs(sumP[i]-sumRel[i]) / float64(len(scores))
		}
	}
	return ece
}
