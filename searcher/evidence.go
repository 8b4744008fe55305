package searcher

// A hybrid hit needs evidence: the keyword side found one of the query's
// terms in it, or its passage lies nearer the query than the similarity
// floor of the embedding model. Nearest neighbours exist for every query,
// nonsense included (a query the model cannot represent at all is the
// zero vector, at similarity 0 from everything), so without the floor a
// query of random letters returns the whole first page as "results".
//
// The floor is a property of the model: each model spreads similarities
// differently (a static word-vector model puts a text with no known word
// at 0, a transformer puts anything at 0.3 or more). The embedder knows
// its own (embeddings.Provider.SimilarityFloor); an embedder that does not
// say has a floor of 0, so that only positive similarity counts.

// SimilarityFloorer is an embedder that knows the similarity below which
// its nearest neighbours are no evidence of relevance.
type SimilarityFloorer interface {
	// SimilarityFloor is the cosine similarity a passage must exceed to
	// count as vector evidence.
	SimilarityFloor() float64
}

// similarityFloor is the searcher's embedder's floor, or 0.
func (s *Searcher) similarityFloor() float64 {
	if f, ok := s.opts.Embedder.(SimilarityFloorer); ok {
		return f.SimilarityFloor()
	}
	return 0
}

// withEvidence drops the fused documents that neither side vouches for,
// keeping the order and scores of the rest.
func withEvidence(ranked []Fused, floor float64) []Fused {
	out := ranked[:0]
	for _, f := range ranked {
		if f.KeywordRank > 0 || (f.VectorRank > 0 && f.VectorScore > floor) {
			out = append(out, f)
		}
	}
	return out
}
