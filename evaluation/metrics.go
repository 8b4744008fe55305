package evaluation

import (
	"cmp"
	"slices"
)

// RelevantGain is the smallest gain that counts a document as relevant for Recall and
// ReciprocalRank, and for deciding which queries are evaluated at all.
const RelevantGain = 1

// NDCG returns nDCG@k as trec_eval's ndcg_cut computes it: the gain of a document is its
// graded judgment (unjudged or <= 0 gives 0), the discount at rank r is log2(r+1), and the
// ideal DCG is built from every judged document of the query with a positive gain, not only
// the retrieved ones. ranked must be in scoring order without duplicates, as Ranking.Ranked
// returns it. A query with no positive gain scores 0.
func NDCG(ranked []string, gains map[string]int, k int) float64 {
	discount := discounts(k)
	var dcg float64
	for i, doc := range head(ranked, k) {
		if g := gains[doc]; g > 0 {
			dcg += float64(g) / discount(i)
		}
	}
	ideal := make([]int, 0, len(gains))
	for _, g := range gains {
		if g > 0 {
			ideal = append(ideal, g)
		}
	}
	slices.SortFunc(ideal, func(a, b int) int { return cmp.Compare(b, a) })
	var idcg float64
	for i, g := range head(ideal, k) {
		idcg += float64(g) / discount(i)
	}
	if idcg <= 0 {
		return 0
	}
	return dcg / idcg
}

// Recall returns the fraction of the query's relevant documents (gain >= RelevantGain) that
// appear in the first k of ranked. A query with no relevant document scores 0.
func Recall(ranked []string, gains map[string]int, k int) float64 {
	top := make(map[string]bool, min(k, len(ranked)))
	for _, doc := range head(ranked, k) {
		top[doc] = true
	}
	var relevant, found int
	for doc, g := range gains {
		if g >= RelevantGain {
			relevant++
			if top[doc] {
				found++
			}
		}
	}
	if relevant == 0 {
		return 0
	}
	return float64(found) / float64(relevant)
}

// ReciprocalRank returns 1/r for the rank r of the first relevant document among the first
// k of ranked, or 0 when none of them is relevant.
func ReciprocalRank(ranked []string, gains map[string]int, k int) float64 {
	for i, doc := range head(ranked, k) {
		if gains[doc] >= RelevantGain {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// discounts returns a function giving log2(i+2), the DCG discount of the document at index
// i < k. Each value is computed once, on first use, because log2 is exact and slow.
func discounts(k int) func(i int) float64 {
	cache := make([]float64, 0, min(k, 16))
	return func(i int) float64 {
		for len(cache) <= i {
			cache = append(cache, log2(len(cache)+2))
		}
		return cache[i]
	}
}

// head returns the first k elements of s, or all of s when it is shorter.
func head[S ~[]E, E any](s S, k int) S {
	if k < 0 {
		k = 0
	}
	return s[:min(k, len(s))]
}
