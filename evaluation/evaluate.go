// Package evaluation measures ranking quality on BEIR-layout test collections. It reads
// qrels, queries and TREC run files and computes nDCG@10, Recall@100 and MRR@10 with the
// definitions of trec_eval and of the reference script shared/datasets/eval/score_run.py,
// whose figures it reproduces exactly on the same run file.
package evaluation

// Cutoffs of the reported metrics.
const (
	NDCGCutoff   = 10
	RecallCutoff = 100
	MRRCutoff    = 10
)

// QueryScore holds the figures of one evaluated query.
type QueryScore struct {
	QueryID   string
	NDCG10    float64
	Recall100 float64
	MRR10     float64
	// InRun reports whether the run retrieved anything for the query; a query it did not
	// scores 0 on every metric.
	InRun bool
}

// Summary holds the figures of a run, each the mean over the evaluated queries: those in the
// qrels with at least one relevant document (gain >= RelevantGain).
type Summary struct {
	NDCG10    float64
	Recall100 float64
	MRR10     float64
	// Queries is the number of evaluated queries, the denominator of every mean.
	Queries int
	// QueriesInRun is how many of them the run retrieved anything for.
	QueriesInRun int
	// PerQuery holds the figures of each evaluated query, in qrels order.
	PerQuery []QueryScore
}

// Evaluate scores run against qrels. Queries of the run that are not judged are ignored;
// judged queries missing from the run score 0, as with trec_eval -c. Means are summed in
// qrels order, as score_run.py sums them, so the figures equal its own bit for bit (checked
// against Python 3.11; from 3.12 Python's sum() compensates rounding and may differ in the
// last bit).
func Evaluate(run Run, qrels Qrels) Summary {
	var s Summary
	for _, qid := range qrels.order {
		gains := qrels.gains[qid]
		if !hasRelevant(gains) {
			continue
		}
		ranked := run[qid].Ranked()
		qs := QueryScore{
			QueryID:   qid,
			NDCG10:    NDCG(ranked, gains, NDCGCutoff),
			Recall100: Recall(ranked, gains, RecallCutoff),
			MRR10:     ReciprocalRank(ranked, gains, MRRCutoff),
			InRun:     len(ranked) > 0,
		}
		s.PerQuery = append(s.PerQuery, qs)
		s.NDCG10 += qs.NDCG10
		s.Recall100 += qs.Recall100
		s.MRR10 += qs.MRR10
		if qs.InRun {
			s.QueriesInRun++
		}
	}
	s.Queries = len(s.PerQuery)
	if s.Queries > 0 {
		n := float64(s.Queries)
		s.NDCG10 /= n
		s.Recall100 /= n
		s.MRR10 /= n
	}
	return s
}

// hasRelevant reports whether any judged document is relevant.
func hasRelevant(gains map[string]int) bool {
	for _, g := range gains {
		if g >= RelevantGain {
			return true
		}
	}
	return false
}
