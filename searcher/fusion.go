package searcher

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// FusionMethod is how a keyword list and a vector list become one ranking.
type FusionMethod int

// Fusion methods.
const (
	// FusionDefault takes the searcher's configured method.
	FusionDefault FusionMethod = iota
	// FusionRRF is reciprocal rank fusion: each list contributes
	// weight / (k + rank), rank counted from 1.
	FusionRRF
	// FusionScore normalises each list's scores to [0, 1] (min-max over its
	// candidates) and adds them weighted: alpha * vector + (1-alpha) * keyword.
	FusionScore
)

func (m FusionMethod) String() string {
	switch m {
	case FusionRRF:
		return "rrf"
	case FusionScore:
		return "score"
	}
	return "default"
}

// ParseFusionMethod parses "rrf" or "score".
func ParseFusionMethod(s string) (FusionMethod, error) {
	switch strings.ToLower(s) {
	case "", "default":
		return FusionDefault, nil
	case "rrf":
		return FusionRRF, nil
	case "score":
		return FusionScore, nil
	}
	return 0, &cari.FieldError{Field: "fusion.method", Reason: fmt.Sprintf("unknown fusion method %q (want rrf or score)", s)}
}

// Fusion configures hybrid retrieval.
type Fusion struct {
	Method FusionMethod
	// RRFK is reciprocal rank fusion's k; larger values flatten the
	// advantage of the top ranks.
	RRFK float64
	// Alpha is the weight of the vector side, 0 to 1; the keyword side
	// weighs 1 - alpha.
	Alpha float64
	// Candidates is how many hits each side retrieves before fusion.
	Candidates int
}

// Validate checks the ranges of f's fields.
func (f Fusion) Validate() error {
	switch {
	case f.Method < FusionDefault || f.Method > FusionScore:
		return &cari.FieldError{Field: "fusion.method", Reason: fmt.Sprintf("unknown fusion method %d", int(f.Method))}
	case f.RRFK < 0 || f.RRFK > 1000:
		return &cari.FieldError{Field: "fusion.rrf_k", Reason: fmt.Sprintf("must be between 0 and 1000, got %v", f.RRFK)}
	case !(f.Alpha >= 0 && f.Alpha <= 1):
		return &cari.FieldError{Field: "fusion.alpha", Reason: fmt.Sprintf("must be between 0 and 1, got %v", f.Alpha)}
	case f.Candidates < 0 || f.Candidates > 1000:
		return &cari.FieldError{Field: "fusion.num_candidates", Reason: fmt.Sprintf("must be between 0 and 1000, got %d", f.Candidates)}
	}
	return nil
}

// Fused is one document of a fused ranking, with what each side said of it.
// A rank of 0 means the side did not return the document.
type Fused struct {
	ID                        string
	Score                     float64
	KeywordRank, VectorRank   int
	KeywordScore, VectorScore float64
	// Passage is the document's best passage on the vector side.
	Passage int
	// FusedScore is the first-stage score (Score may be replaced by the
	// re-ranker's).
	FusedScore float64
	// Reranked and RerankScore say what the re-ranker made of it.
	Reranked    bool
	RerankScore float64
}

// Fuse merges a keyword and a vector ranking into one, best first; equal
// scores are ordered by ID.
func Fuse(keyword, vector []store.Hit, f Fusion) []Fused {
	byID := make(map[string]*Fused, len(keyword)+len(vector))
	get := func(id string) *Fused {
		if d, ok := byID[id]; ok {
			return d
		}
		d := &Fused{ID: id}
		byID[id] = d
		return d
	}
	for i, h := range keyword {
		d := get(h.ID)
		d.KeywordRank, d.KeywordScore = i+1, h.Score
	}
	for i, h := range vector {
		d := get(h.ID)
		d.VectorRank, d.VectorScore, d.Passage = i+1, h.Score, h.Passage
	}
	kwNorm, vecNorm := minMax(keyword), minMax(vector)
	out := make([]Fused, 0, len(byID))
	for _, d := range byID {
		switch f.Method {
		case FusionScore:
			if d.KeywordRank > 0 {
				d.Score += (1 - f.Alpha) * kwNorm(d.KeywordScore)
			}
			if d.VectorRank > 0 {
				d.Score += f.Alpha * vecNorm(d.VectorScore)
			}
		default:
			if d.KeywordRank > 0 {
				d.Score += (1 - f.Alpha) / (f.RRFK + float64(d.KeywordRank))
			}
			if d.VectorRank > 0 {
				d.Score += f.Alpha / (f.RRFK + float64(d.VectorRank))
			}
		}
		d.FusedScore = d.Score
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b Fused) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// minMax returns a function mapping a list's scores onto [0, 1]. A list
// whose scores are all equal maps them to 1: each of its hits is its best.
func minMax(hits []store.Hit) func(float64) float64 {
	if len(hits) == 0 {
		return func(float64) float64 { return 0 }
	}
	lo, hi := hits[0].Score, hits[0].Score
	for _, h := range hits {
		lo, hi = min(lo, h.Score), max(hi, h.Score)
	}
	if hi == lo {
		return func(float64) float64 { return 1 }
	}
	return func(s float64) float64 { return (s - lo) / (hi - lo) }
}

// Ranked places one result of a fusion of separate rankings (FuseRankings):
// the ranking it came from, its rank there (counting from 1), and its
// fused score.
type Ranked struct {
	List, Rank int
	Score      float64
}

// FuseRankings merges separate rankings of distinct documents, such as
// the results of one query in several collections, by reciprocal rank
// fusion: the document at rank r of any list scores 1 / (k + r), whatever
// score its list gave it, so that lists whose scores have different
// scales (BM25 in one collection, cosine or a re-ranker's in another)
// mix fairly. lengths are the lists' lengths; the first n of the fused
// ranking are returned, best first. Since no document is in two lists,
// the order is by rank, and lists tie at each rank in their given order:
// every list's first, then every list's second, and so on.
func FuseRankings(lengths []int, k float64, n int) []Ranked {
	out := make([]Ranked, 0, n)
	for rank := 1; len(out) < n; rank++ {
		more := false
		for list, l := range lengths {
			if rank > l {
				continue
			}
			more = true
			if len(out) < n {
				out = append(out, Ranked{List: list, Rank: rank, Score: 1 / (k + float64(rank))})
			}
		}
		if !more {
			break
		}
	}
	return out
}
