package qdrant

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari/store"
)

// ErrNoVectors is returned by SearchVector on a keyword-only collection.
var ErrNoVectors = errors.New("no vectors to search")

// Terms returns the index terms of text as a query, as the local store
// would.
func (s *Store) Terms(text string) []string { return s.analysis.Terms(text) }

// TermsIn returns the index terms of text as a document in language.
func (s *Store) TermsIn(text, language string) []string {
	return s.analysis.TermsIn(text, language)
}

// sparseQuery is the sparse query of some analysed terms: each weighted by
// how often the query says it. Qdrant multiplies in the IDF.
func sparseQuery(terms []string) *qdrant.Query {
	counts := make(map[uint32]float64, len(terms))
	for _, t := range terms {
		counts[termIndex(t)]++
	}
	return qdrant.NewQuerySparse(sparse(counts))
}

// keywordQueries returns the per-field sparse queries of text, one for each
// body field its detected language searches (as on the local store), each
// with the query analysed as that field analyses it and matched only
// against the documents analysed in that field.
func (s *Store) keywordQueries(text string, filter *qdrant.Filter, limit uint64) ([]*qdrant.PrefetchQuery, error) {
	fields, err := s.analysis.QueryFields(text)
	if err != nil {
		return nil, err
	}
	out := make([]*qdrant.PrefetchQuery, len(fields))
	for i, f := range fields {
		inField := &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchKeyword(fieldBodyField, f.Field)}}
		if filter != nil {
			inField.Must = append(inField.Must, qdrant.NewFilterAsCondition(filter))
		}
		out[i] = &qdrant.PrefetchQuery{Query: sparseQuery(f.Terms), Using: qdrant.PtrOf(sparseVector), Filter: inField, Limit: &limit}
	}
	return out, nil
}

// SearchKeyword scores documents with BM25 (Cari's term weights, Qdrant's
// IDF, each in the body field of the document's language) and returns the
// best q.Limit that pass q.Filter, best first. A document is in one field,
// so the fields' results, one query each in one batch request, merge by
// score.
func (s *Store) SearchKeyword(ctx context.Context, q store.KeywordQuery) ([]store.Hit, error) {
	target := s.readTarget(ctx)
	if q.Limit <= 0 {
		return nil, nil
	}
	if err := s.checkFilter(q.Filter); err != nil {
		return nil, err
	}
	queries, err := s.keywordQueries(q.Text, s.filter(q.Filter), uint64(q.Limit))
	if err != nil || len(queries) == 0 {
		return nil, err
	}
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	batch := make([]*qdrant.QueryPoints, len(queries))
	for i, pf := range queries {
		batch[i] = &qdrant.QueryPoints{CollectionName: target, Query: pf.Query, Using: pf.Using, Filter: pf.Filter,
			Limit: pf.Limit, WithPayload: qdrant.NewWithPayloadInclude(fieldID)}
	}
	res, err := client.QueryBatch(ctx, &qdrant.QueryBatchPoints{CollectionName: target, QueryPoints: batch})
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", target, err)
	}
	var pts []*qdrant.ScoredPoint
	for _, r := range res {
		pts = append(pts, r.GetResult()...)
	}
	hits := hitsOf(pts)
	return hits[:min(len(hits), q.Limit)], nil
}

// SearchVector returns the documents whose best passage is most similar to
// q.Vector (cosine), best first, among those that pass q.Filter.
func (s *Store) SearchVector(ctx context.Context, q store.VectorQuery) ([]store.Hit, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	if err := s.checkQueryVector(q.Vector); err != nil {
		return nil, err
	}
	if m := s.current(); q.Model != "" && q.Model != m.Vectors.Model {
		return nil, fmt.Errorf("query vector is from model %s, collection %s holds vectors of %s", q.Model, m.Collection, m.Vectors)
	}
	if err := s.checkFilter(q.Filter); err != nil {
		return nil, err
	}
	filter := s.filter(q.Filter)
	return s.query(ctx, &qdrant.QueryPoints{
		Prefetch: []*qdrant.PrefetchQuery{s.candidates(q.Vector, filter, q.Limit)},
		Query:    qdrant.NewQueryMulti([][]float32{q.Vector}),
		Using:    qdrant.PtrOf(denseVector),
		Filter:   filter,
		Limit:    qdrant.PtrOf(uint64(q.Limit)),
	})
}

// candidates finds documents for MaxSim to rank: the nearest mean vectors,
// VectorOversample times n (at least 100).
func (s *Store) candidates(v []float32, filter *qdrant.Filter, n int) *qdrant.PrefetchQuery {
	k := uint64(max(n*s.opts.VectorOversample, 100))
	return &qdrant.PrefetchQuery{Query: qdrant.NewQueryDense(v), Using: qdrant.PtrOf(meanVector), Filter: filter, Limit: &k}
}

// denseSide is a prefetch returning the n documents with the best passage
// nearest v: mean-vector candidates ranked by MaxSim.
func (s *Store) denseSide(v []float32, filter *qdrant.Filter, n int) *qdrant.PrefetchQuery {
	limit := uint64(n)
	return &qdrant.PrefetchQuery{
		Prefetch: []*qdrant.PrefetchQuery{s.candidates(v, filter, n)},
		Query:    qdrant.NewQueryMulti([][]float32{v}),
		Using:    qdrant.PtrOf(denseVector),
		Filter:   filter,
		Limit:    &limit,
	}
}

func (s *Store) checkQueryVector(v []float32) error {
	m := s.current()
	space := m.Vectors
	if space.IsZero() {
		return fmt.Errorf("%w: collection %s is keyword-only", ErrNoVectors, m.Collection)
	}
	if s.opts.Rebuild && space != s.opts.Vectors {
		return fmt.Errorf("%w: collection %s holds vectors of %s, and this process embeds with %s", ErrNoVectors, m.Collection, space, s.opts.Vectors)
	}
	if len(v) != space.Dim {
		return fmt.Errorf("query vector has %d dimensions, collection %s has %d (%s)", len(v), m.Collection, space.Dim, space)
	}
	return nil
}

// Fusion names how Qdrant combines the keyword and vector sides of a hybrid
// query.
type Fusion string

// The fusions Qdrant runs.
const (
	// FusionRRF is reciprocal rank fusion, with K and side weights.
	FusionRRF Fusion = "rrf"
	// FusionDBSF is distribution-based score fusion: each side's scores
	// normalised by their mean and three standard deviations, then summed.
	FusionDBSF Fusion = "dbsf"
)

// HybridQuery asks for keyword and vector retrieval fused inside Qdrant.
type HybridQuery struct {
	Text   string
	Vector []float32
	Filter store.Filter
	Limit  int
	// Candidates is how many documents each side contributes. Default
	// 100, at least Limit.
	Candidates int
	Fusion     Fusion
	// RRFK is reciprocal rank fusion's k (default 60), as searcher.Fuse
	// counts it; Alpha weighs the vector side against the keyword side, 0
	// to 1 (default 0.5). At the default the fused order is the
	// searcher's own; with other weights it follows Qdrant's weighted RRF,
	// which is another formula (rrfWeights).
	RRFK  int
	Alpha float64
}

// SearchHybrid runs both retrievals and their fusion in one round trip: a
// query with two prefetches (sparse BM25, and dense MaxSim over mean-vector
// candidates, all filtered) fused by RRF or DBSF.
func (s *Store) SearchHybrid(ctx context.Context, q HybridQuery) ([]store.Hit, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	if err := s.checkQueryVector(q.Vector); err != nil {
		return nil, err
	}
	if err := s.checkFilter(q.Filter); err != nil {
		return nil, err
	}
	cands := uint64(max(q.Candidates, q.Limit))
	if q.Candidates <= 0 {
		cands = uint64(max(100, q.Limit))
	}
	filter := s.filter(q.Filter)
	fields, err := s.keywordQueries(q.Text, filter, cands)
	if err != nil {
		return nil, err
	}
	dense := s.denseSide(q.Vector, filter, int(cands))
	prefetch := []*qdrant.PrefetchQuery{dense}
	weights := rrfWeights(q.alpha())
	switch len(fields) {
	case 0:
		if weights != nil {
			weights = weights[1:]
		}
	case 1:
		prefetch = []*qdrant.PrefetchQuery{fields[0], dense}
	default:
		prefetch = []*qdrant.PrefetchQuery{mergeFields(fields, cands), dense}
	}
	var fusion *qdrant.Query
	switch q.Fusion {
	case FusionRRF, "":
		k := uint32(60)
		if q.RRFK > 0 {
			k = uint32(q.RRFK)
		}
		// Qdrant scores the first place 1/k, Cari (searcher.Fuse) 1/(k+1):
		// one more makes them the same.
		k++
		fusion = qdrant.NewQueryRRF(&qdrant.Rrf{K: &k, Weights: weights})
	case FusionDBSF:
		fusion = qdrant.NewQueryFusion(qdrant.Fusion_DBSF)
	default:
		return nil, fmt.Errorf("fusion must be %s or %s, got %q", FusionRRF, FusionDBSF, q.Fusion)
	}
	return s.query(ctx, &qdrant.QueryPoints{Prefetch: prefetch, Query: fusion, Filter: filter, Limit: qdrant.PtrOf(uint64(q.Limit))})
}

// rrfWeights are the keyword and vector sides' weights for Qdrant's RRF,
// nil for equal sides. Qdrant divides a side's ranks by its weight,
// 1 / (rank/w + k - 1) (qdranttest's rrf cites where), where Cari's own
// fusion multiplies the side's score, w / (k + rank): the two agree
// exactly for equal weights, which are therefore left out, and not
// otherwise. Unequal ones are scaled so that they tend to 1 as alpha tends
// to 0.5, so the fused order changes smoothly around the default.
func rrfWeights(alpha float64) []float32 {
	if alpha == 0.5 {
		return nil
	}
	return []float32{float32(2 * (1 - alpha)), float32(2 * alpha)}
}

func (q HybridQuery) alpha() float64 {
	if q.Alpha <= 0 || q.Alpha > 1 {
		return 0.5
	}
	return q.Alpha
}

// mergeFields is the keyword side over several body fields: each document
// is in one field, so the sum of the fields' scores (0 where a field did
// not find it) is its BM25 score there.
func mergeFields(fields []*qdrant.PrefetchQuery, limit uint64) *qdrant.PrefetchQuery {
	sum := make([]*qdrant.Expression, len(fields))
	defaults := map[string]*qdrant.Value{}
	for i := range fields {
		v := fmt.Sprintf("$score[%d]", i)
		sum[i] = qdrant.NewExpressionVariable(v)
		defaults[v] = qdrant.NewValueDouble(0)
	}
	return &qdrant.PrefetchQuery{
		Prefetch: fields,
		Query:    qdrant.NewQueryFormula(&qdrant.Formula{Expression: qdrant.NewExpressionSum(&qdrant.SumExpression{Sum: sum}), Defaults: defaults}),
		Limit:    &limit,
	}
}

// query runs a query returning documents, and orders equal scores by
// document ID as the local store does.
func (s *Store) query(ctx context.Context, req *qdrant.QueryPoints) ([]store.Hit, error) {
	target := s.readTarget(ctx)
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	req.CollectionName = target
	req.WithPayload = qdrant.NewWithPayloadInclude(fieldID)
	pts, err := client.Query(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", target, err)
	}
	return hitsOf(pts), nil
}

// hitsOf turns scored points into hits, best first, equal scores by ID.
func hitsOf(pts []*qdrant.ScoredPoint) []store.Hit {
	hits := make([]store.Hit, len(pts))
	for i, p := range pts {
		hits[i] = store.Hit{ID: p.GetPayload()[fieldID].GetStringValue(), Score: float64(p.GetScore())}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return strings.Compare(hits[i].ID, hits[j].ID) < 0
	})
	return hits
}
