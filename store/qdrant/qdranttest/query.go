package qdranttest

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"sort"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// scored is a point with its score under a query.
type scored struct {
	p     *point
	score float64
}

// Query runs the Query API: a nearest query on one named vector, or a
// fusion of prefetches, under a filter.
func (s pointsAPI) Query(_ context.Context, r *qdrant.QueryPoints) (*qdrant.QueryResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.query(r)
	if err != nil {
		return nil, err
	}
	return &qdrant.QueryResponse{Result: res}, nil
}

// QueryBatch runs several queries in one request.
func (s pointsAPI) QueryBatch(_ context.Context, r *qdrant.QueryBatchPoints) (*qdrant.QueryBatchResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &qdrant.QueryBatchResponse{}
	for i, q := range r.GetQueryPoints() {
		if q.GetCollectionName() == "" {
			q.CollectionName = r.GetCollectionName()
		}
		res, err := s.query(q)
		if err != nil {
			return nil, status.Errorf(status.Code(err), "query_points[%d]: %s", i, status.Convert(err).Message())
		}
		out.Result = append(out.Result, &qdrant.BatchResult{Result: res})
	}
	return out, nil
}

func (s pointsAPI) query(r *qdrant.QueryPoints) ([]*qdrant.ScoredPoint, error) {
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	limit := 10
	if r.Limit != nil {
		limit = int(r.GetLimit())
	}
	res, err := c.run(r.GetQuery(), r.GetUsing(), r.GetPrefetch(), r.GetFilter(), limit+int(r.GetOffset()))
	if err != nil {
		return nil, err
	}
	if off := int(r.GetOffset()); off < len(res) {
		res = res[off:]
	} else {
		res = nil
	}
	out := make([]*qdrant.ScoredPoint, len(res))
	for i, x := range res {
		out[i] = &qdrant.ScoredPoint{Id: x.p.id, Score: float32(x.score),
			Payload: selectPayload(x.p.payload, r.GetWithPayload()), Vectors: selectVectors(x.p, r.GetWithVectors())}
	}
	return out, nil
}

// run evaluates one query level: prefetches first (each under its own
// filter and the enclosing one), then the query over their results, or
// over every point when there are none. Qdrant runs the prefetches on each
// shard and fuses at the collection, over the shards' merged lists
// (lib/collection/src/collection/query.rs); the stand-in scores each point
// with its own shard's statistics (idf), so ranking all points together
// gives what merging the shards' lists by score gives.
func (c *collection) run(q *qdrant.Query, using string, prefetch []*qdrant.PrefetchQuery, filter *qdrant.Filter, limit int) ([]scored, error) {
	var lists [][]scored
	for i, pf := range prefetch {
		// A prefetch without a limit returns 10 points ("Max number of
		// points. Default is 10", PrefetchQuery.limit in points.proto,
		// line 1033 of go-client v1.17.1's internal/proto), whatever the
		// enclosing query's limit: a fusion of unlimited prefetches sees 10
		// candidates a side.
		pl := 10
		if pf.Limit != nil {
			pl = int(pf.GetLimit())
		}
		res, err := c.run(pf.GetQuery(), pf.GetUsing(), pf.GetPrefetch(), and(filter, pf.GetFilter()), pl)
		if err != nil {
			return nil, status.Errorf(status.Code(err), "prefetch[%d]: %s", i, status.Convert(err).Message())
		}
		lists = append(lists, res)
	}
	var res []scored
	switch x := q.GetVariant().(type) {
	case *qdrant.Query_Fusion:
		switch x.Fusion {
		case qdrant.Fusion_RRF:
			res = rrf(lists, 2, nil)
		case qdrant.Fusion_DBSF:
			res = dbsf(lists)
		default:
			return nil, invalid("unknown fusion %v", x.Fusion)
		}
	case *qdrant.Query_Rrf:
		k := 2
		if x.Rrf.K != nil {
			k = int(x.Rrf.GetK())
		}
		if w := x.Rrf.GetWeights(); len(w) > 0 && len(w) != len(lists) {
			return nil, invalid("rrf.weights: %d weights for %d prefetches", len(w), len(lists))
		}
		res = rrf(lists, k, x.Rrf.GetWeights())
	case *qdrant.Query_Nearest:
		var cands []*point
		if prefetch != nil {
			seen := map[string]bool{}
			for _, l := range lists {
				for _, s := range l {
					if k := pointKey(s.p.id); !seen[k] {
						seen[k] = true
						cands = append(cands, s.p)
					}
				}
			}
		} else {
			for _, p := range c.points {
				if matches(p, filter) {
					cands = append(cands, p)
				}
			}
		}
		var err error
		if res, err = c.nearest(x.Nearest, using, cands); err != nil {
			return nil, err
		}
	case *qdrant.Query_Formula:
		var err error
		if res, err = formula(x.Formula, lists); err != nil {
			return nil, err
		}
	case nil:
		if len(lists) == 0 {
			return nil, invalid("query: required without prefetch")
		}
		res = lists[0]
	default:
		return nil, status.Errorf(codes.Unimplemented, "qdranttest does not implement query %T", x)
	}
	sortScored(res)
	if len(res) > limit {
		res = res[:limit]
	}
	return res, nil
}

func and(a, b *qdrant.Filter) *qdrant.Filter {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewFilterAsCondition(a), qdrant.NewFilterAsCondition(b)}}
}

// sortScored orders best first, ties by point ID.
func sortScored(res []scored) {
	sort.SliceStable(res, func(i, j int) bool {
		if res[i].score != res[j].score {
			return res[i].score > res[j].score
		}
		return pointKey(res[i].p.id) < pointKey(res[j].p.id)
	})
}

// nearest scores candidates against a vector input on the named vector.
func (c *collection) nearest(in *qdrant.VectorInput, using string, cands []*point) ([]scored, error) {
	if sp, ok := c.sparse[using]; ok {
		sv := in.GetSparse()
		if sv == nil {
			return nil, invalid("vector %q is sparse, the query is not", using)
		}
		if len(sv.GetIndices()) != len(sv.GetValues()) {
			return nil, invalid("sparse query: %d indices and %d values", len(sv.GetIndices()), len(sv.GetValues()))
		}
		idf := map[int]map[uint32]float64{} // by shard, computed when first needed
		idfOf := func(p *point) map[uint32]float64 {
			if sp.GetModifier() != qdrant.Modifier_Idf {
				return nil
			}
			shard := c.shardOf(p)
			if idf[shard] == nil {
				idf[shard] = c.idf(using, sv.GetIndices(), shard)
			}
			return idf[shard]
		}
		var out []scored
		for _, p := range cands {
			m, ok := p.sparse[using]
			if !ok {
				continue
			}
			score, overlap, idf := 0.0, false, idfOf(p)
			for k, i := range sv.GetIndices() {
				w, in := m[i]
				if !in {
					continue
				}
				overlap = true
				x := float64(sv.GetValues()[k]) * float64(w)
				if idf != nil {
					x *= idf[i]
				}
				score += x
			}
			// Sparse search returns only points sharing a dimension with
			// the query.
			if overlap {
				out = append(out, scored{p, score})
			}
		}
		return out, nil
	}
	params, ok := c.dense[using]
	if !ok {
		return nil, invalid("Wrong input: Not existing vector name error: %s", using)
	}
	var query [][]float32
	switch {
	case in.GetMultiDense() != nil:
		for _, d := range in.GetMultiDense().GetVectors() {
			query = append(query, d.GetData())
		}
	case in.GetDense() != nil:
		query = [][]float32{in.GetDense().GetData()}
	default:
		return nil, invalid("vector %q is dense, the query is not", using)
	}
	if params.GetMultivectorConfig() == nil && len(query) != 1 {
		return nil, invalid("vector %q holds single vectors, the query has %d", using, len(query))
	}
	for i, q := range query {
		if uint64(len(q)) != params.GetSize() {
			return nil, invalid("Wrong input: Vector dimension error: expected dim: %d, got %d", params.GetSize(), len(q))
		}
		query[i] = normalize(q)
	}
	var out []scored
	for _, p := range cands {
		vs, ok := p.dense[using]
		if !ok {
			continue
		}
		// MaxSim: each query vector's best match, summed; with a single
		// vector on each side this is plain cosine.
		score := 0.0
		for _, q := range query {
			best := math.Inf(-1)
			for _, v := range vs {
				best = math.Max(best, dot(q, v))
			}
			score += best
		}
		out = append(out, scored{p, score})
	}
	return out, nil
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// idf computes the IDF modifier of each index as Qdrant does: per shard,
// ln(1 + (N - n + 0.5) / (n + 0.5)) (fancy_idf in lib/segment/src/
// data_types/query_context.rs at commit 00bb9b74, near line 218), where N
// is the number of points of the shard that have the sparse vector (the
// vector index's indexed_vector_count, summed over the shard's segments by
// fill_query_context in lib/shard/src/query/query_context.rs) and n the
// number of those whose vector has the index (its posting list's length).
// Each shard counts its own points only, so with several shards a term's
// IDF differs from shard to shard; the collection merges the shards'
// results afterwards (lib/collection/src/collection/query.rs). Not
// modelled: Qdrant's counts also hold deleted or replaced points until the
// optimizer rewrites their segment.
func (c *collection) idf(using string, indices []uint32, shard int) map[uint32]float64 {
	n := 0.0
	df := make(map[uint32]float64, len(indices))
	for _, p := range c.points {
		m, ok := p.sparse[using]
		if !ok || len(m) == 0 || c.shardOf(p) != shard {
			continue
		}
		n++
		for _, i := range indices {
			if _, in := m[i]; in {
				df[i]++
			}
		}
	}
	out := make(map[uint32]float64, len(indices))
	for _, i := range indices {
		out[i] = math.Log(1 + (n-df[i]+0.5)/(df[i]+0.5))
	}
	return out
}

// shardOf is the shard a point lives in. Qdrant places points by a hash
// of their ID on a ring of the collection's shard_number shards (default
// one per node at creation); which shard does not matter here, only that
// each point has one, fixed, and that shards differ in their counts.
func (c *collection) shardOf(p *point) int {
	n := c.create.GetShardNumber()
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(pointKey(p.id)))
	return int(h.Sum32() % n)
}

// rrf fuses ranked lists as Qdrant does (lib/segment/src/common/
// reciprocal_rank_fusion.rs at commit 037600e8, lines 32-39 and 54-99): the
// point at 0-based position pos of a list with weight w scores
// 1 / ((pos+1)/w + k - 1), summed over lists; with w = 1 that is
// 1 / (k + pos), so the first place scores 1/k, not the textbook 1/(k+1).
// A weight divides the rank rather than multiplying the score, and a weight
// of 0 or less contributes nothing. The default k is 2 (DEFAULT_RRF_K, line
// 14); weights must be one per prefetch (checked by the caller, as there).
// Qdrant leaves equal scores in hash order (sort_unstable); the stand-in's
// caller orders them by ID, and so does Cari (store/qdrant's query).
func rrf(lists [][]scored, k int, weights []float32) []scored {
	acc := map[string]*scored{}
	var order []string
	for li, l := range lists {
		w := 1.0
		if len(weights) > 0 {
			w = float64(weights[li])
		}
		for pos, s := range l {
			key := pointKey(s.p.id)
			if acc[key] == nil {
				acc[key] = &scored{p: s.p}
				order = append(order, key)
			}
			if w > 0 {
				acc[key].score += 1 / (float64(pos+1)/w + float64(k) - 1)
			}
		}
	}
	out := make([]scored, len(order))
	for i, key := range order {
		out[i] = *acc[key]
	}
	return out
}

// dbsf fuses lists by distribution-based score fusion as Qdrant does
// (lib/segment/src/common/score_fusion.rs at commit 10ef9eef): each list's
// scores are mapped from [mean - 3 sd, mean + 3 sd] onto [0, 1] with the
// sample standard deviation (n-1, Welford's method, lines 126-145) and no
// clamping, so an outlier may fall outside [0, 1] (norm, lines 97-109); a
// list of one point, or of equal scores, maps to 0.5 (distr_norm, lines
// 149-164). The lists' normalised scores are summed per point.
func dbsf(lists [][]scored) []scored {
	acc := map[string]*scored{}
	var order []string
	for _, l := range lists {
		for i, x := range distrNorm(l) {
			key := pointKey(l[i].p.id)
			if acc[key] == nil {
				acc[key] = &scored{p: l[i].p}
				order = append(order, key)
			}
			acc[key].score += x
		}
	}
	out := make([]scored, len(order))
	for i, key := range order {
		out[i] = *acc[key]
	}
	return out
}

// distrNorm returns DBSF's normalised score of each of l's points.
func distrNorm(l []scored) []float64 {
	out := make([]float64, len(l))
	if len(l) < 2 {
		for i := range out {
			out[i] = 0.5
		}
		return out
	}
	var mean, sd float64
	for _, s := range l {
		mean += s.score
	}
	mean /= float64(len(l))
	for _, s := range l {
		sd += (s.score - mean) * (s.score - mean)
	}
	sd = math.Sqrt(sd / float64(len(l)-1))
	lo, hi := mean-3*sd, mean+3*sd
	for i, s := range l {
		out[i] = 0.5
		if hi > lo {
			out[i] = (s.score - lo) / (hi - lo)
		}
	}
	return out
}

// formula scores the union of the prefetched points by a formula. Only
// what Cari sends is implemented: sums of constants and of the variables
// $score and $score[i] (the point's score in prefetch i), with defaults
// for a point a prefetch did not return.
func formula(f *qdrant.Formula, lists [][]scored) ([]scored, error) {
	scores := make([]map[string]float64, len(lists))
	var points []*point
	seen := map[string]bool{}
	for i, l := range lists {
		scores[i] = map[string]float64{}
		for _, s := range l {
			k := pointKey(s.p.id)
			scores[i][k] = s.score
			if !seen[k] {
				seen[k] = true
				points = append(points, s.p)
			}
		}
	}
	var eval func(e *qdrant.Expression, k string) (float64, error)
	eval = func(e *qdrant.Expression, k string) (float64, error) {
		switch x := e.GetVariant().(type) {
		case *qdrant.Expression_Constant:
			return float64(x.Constant), nil
		case *qdrant.Expression_Variable:
			i := 0
			if x.Variable != "$score" {
				if _, err := fmt.Sscanf(x.Variable, "$score[%d]", &i); err != nil || i < 0 || i >= len(lists) {
					return 0, status.Errorf(codes.Unimplemented, "qdranttest implements only $score and $score[i] variables, got %q", x.Variable)
				}
			}
			if v, ok := scores[i][k]; ok {
				return v, nil
			}
			d, ok := f.GetDefaults()[x.Variable]
			if !ok {
				return 0, invalid("formula: no value of %s for a point and no default", x.Variable)
			}
			return d.GetDoubleValue() + float64(d.GetIntegerValue()), nil
		case *qdrant.Expression_Sum:
			total := 0.0
			for _, t := range x.Sum.GetSum() {
				v, err := eval(t, k)
				if err != nil {
					return 0, err
				}
				total += v
			}
			return total, nil
		}
		return 0, status.Errorf(codes.Unimplemented, "qdranttest does not implement formula expression %T", e.GetVariant())
	}
	out := make([]scored, 0, len(points))
	for _, p := range points {
		v, err := eval(f.GetExpression(), pointKey(p.id))
		if err != nil {
			return nil, err
		}
		out = append(out, scored{p, v})
	}
	return out, nil
}
