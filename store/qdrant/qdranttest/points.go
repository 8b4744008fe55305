package qdranttest

import (
	"context"
	"math"
	"sort"
	"strconv"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func completed() *qdrant.PointsOperationResponse {
	return &qdrant.PointsOperationResponse{Result: &qdrant.UpdateResult{Status: qdrant.UpdateStatus_Completed}}
}

func pointKey(id *qdrant.PointId) string {
	if u := id.GetUuid(); u != "" {
		return "u:" + u
	}
	return "n:" + strconv.FormatUint(id.GetNum(), 10)
}

// Upsert stores points, replacing whole points with the same ID. The
// request is checked first and applied all at once.
func (s pointsAPI) Upsert(_ context.Context, r *qdrant.UpsertPoints) (*qdrant.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	pts := make([]*point, len(r.GetPoints()))
	for i, p := range r.GetPoints() {
		if pts[i], err = c.newPoint(p); err != nil {
			return nil, invalid("points[%d]: %v", i, err)
		}
	}
	for _, p := range pts {
		p.order = len(c.points)
		if old, ok := c.points[pointKey(p.id)]; ok {
			p.order = old.order
		}
		c.points[pointKey(p.id)] = p
	}
	return completed(), nil
}

func (c *collection) newPoint(p *qdrant.PointStruct) (*point, error) {
	if p.GetId() == nil {
		return nil, errorf("id: required")
	}
	out := &point{id: p.GetId(), payload: p.GetPayload(), dense: map[string][][]float32{}, sparse: map[string]map[uint32]float32{}}
	named := p.GetVectors().GetVectors().GetVectors()
	if v := p.GetVectors().GetVector(); v != nil {
		named = map[string]*qdrant.Vector{"": v}
	}
	for name, v := range named {
		if _, ok := c.sparse[name]; ok {
			sv := v.GetSparse()
			if sv == nil {
				return nil, errorf("vector %q: sparse vector expected", name)
			}
			if len(sv.GetIndices()) != len(sv.GetValues()) {
				return nil, errorf("vector %q: %d indices and %d values", name, len(sv.GetIndices()), len(sv.GetValues()))
			}
			m := make(map[uint32]float32, len(sv.GetIndices()))
			for k, i := range sv.GetIndices() {
				if _, dup := m[i]; dup {
					return nil, errorf("vector %q: index %d repeated", name, i)
				}
				m[i] = sv.GetValues()[k]
			}
			out.sparse[name] = m
			continue
		}
		params, ok := c.dense[name]
		if !ok {
			return nil, errorf("Wrong input: Not existing vector name error: %s", name)
		}
		var vs [][]float32
		switch {
		case params.GetMultivectorConfig() != nil:
			for _, d := range v.GetMultiDense().GetVectors() {
				vs = append(vs, d.GetData())
			}
			if len(vs) == 0 {
				return nil, errorf("vector %q: multivector expected", name)
			}
		case v.GetDense() != nil:
			vs = [][]float32{v.GetDense().GetData()}
		default:
			return nil, errorf("vector %q: dense vector expected", name)
		}
		for k, d := range vs {
			if uint64(len(d)) != params.GetSize() {
				return nil, errorf("Wrong input: Vector dimension error: expected dim: %d, got %d (vector %q, %d)", params.GetSize(), len(d), name, k)
			}
			vs[k] = normalize(d)
		}
		out.dense[name] = vs
	}
	return out, nil
}

func normalize(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	n = math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(float64(x) / n)
	}
	return out
}

// Delete removes points by ID or by filter.
func (s pointsAPI) Delete(_ context.Context, r *qdrant.DeletePoints) (*qdrant.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if f := r.GetPoints().GetFilter(); f != nil {
		for k, p := range c.points {
			if matches(p, f) {
				delete(c.points, k)
			}
		}
		return completed(), nil
	}
	for _, id := range r.GetPoints().GetPoints().GetIds() {
		delete(c.points, pointKey(id))
	}
	return completed(), nil
}

// Get returns the points with the given IDs that exist.
func (s pointsAPI) Get(_ context.Context, r *qdrant.GetPoints) (*qdrant.GetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	out := &qdrant.GetResponse{}
	for _, id := range r.GetIds() {
		if p, ok := c.points[pointKey(id)]; ok {
			out.Result = append(out.Result, &qdrant.RetrievedPoint{Id: p.id,
				Payload: selectPayload(p.payload, r.GetWithPayload()), Vectors: selectVectors(p, r.GetWithVectors())})
		}
	}
	return out, nil
}

// Scroll pages through the points that pass a filter, in ID order.
func (s pointsAPI) Scroll(_ context.Context, r *qdrant.ScrollPoints) (*qdrant.ScrollResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	var keys []string
	for k, p := range c.points {
		if matches(p, r.GetFilter()) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if r.GetOffset() != nil {
		from := pointKey(r.GetOffset())
		keys = keys[sort.SearchStrings(keys, from):]
	}
	limit := int(r.GetLimit())
	if r.Limit == nil {
		limit = 10
	}
	out := &qdrant.ScrollResponse{}
	if len(keys) > limit {
		out.NextPageOffset = c.points[keys[limit]].id
		keys = keys[:limit]
	}
	for _, k := range keys {
		p := c.points[k]
		out.Result = append(out.Result, &qdrant.RetrievedPoint{Id: p.id,
			Payload: selectPayload(p.payload, r.GetWithPayload()), Vectors: selectVectors(p, r.GetWithVectors())})
	}
	return out, nil
}

// Count counts the points that pass a filter.
func (s pointsAPI) Count(_ context.Context, r *qdrant.CountPoints) (*qdrant.CountResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	var n uint64
	for _, p := range c.points {
		if matches(p, r.GetFilter()) {
			n++
		}
	}
	return &qdrant.CountResponse{Result: &qdrant.CountResult{Count: n}}, nil
}

// Facet counts the points per value of an indexed keyword or integer
// field, most frequent first.
func (s pointsAPI) Facet(_ context.Context, r *qdrant.FacetCounts) (*qdrant.FacetResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	typ, indexed := c.indexes[r.GetKey()]
	if !indexed || (typ != qdrant.FieldType_FieldTypeInteger && typ != qdrant.FieldType_FieldTypeKeyword) {
		return nil, invalid("Bad request: Index required but not found for \"%s\" of one of the following types: [keyword, integer]", r.GetKey())
	}
	counts := map[string]uint64{}
	values := map[string]*qdrant.FacetValue{}
	for _, p := range c.points {
		if !matches(p, r.GetFilter()) {
			continue
		}
		seen := map[string]bool{}
		for _, v := range flatten(p.payload[r.GetKey()]) {
			var fv *qdrant.FacetValue
			switch x := v.GetKind().(type) {
			case *qdrant.Value_IntegerValue:
				fv = &qdrant.FacetValue{Variant: &qdrant.FacetValue_IntegerValue{IntegerValue: x.IntegerValue}}
			case *qdrant.Value_StringValue:
				fv = qdrant.NewFacetValue(x.StringValue)
			default:
				continue
			}
			k := fv.String()
			if !seen[k] {
				seen[k] = true
				counts[k]++
				values[k] = fv
			}
		}
	}
	out := &qdrant.FacetResponse{}
	for k, n := range counts {
		out.Hits = append(out.Hits, &qdrant.FacetHit{Value: values[k], Count: n})
	}
	sort.Slice(out.Hits, func(i, j int) bool {
		if out.Hits[i].Count != out.Hits[j].Count {
			return out.Hits[i].Count > out.Hits[j].Count
		}
		return out.Hits[i].Value.String() < out.Hits[j].Value.String()
	})
	limit := 10
	if r.Limit != nil {
		limit = int(r.GetLimit())
	}
	if len(out.Hits) > limit {
		out.Hits = out.Hits[:limit]
	}
	return out, nil
}

func selectPayload(p map[string]*qdrant.Value, sel *qdrant.WithPayloadSelector) map[string]*qdrant.Value {
	switch {
	case sel == nil || !sel.GetEnable() && sel.GetInclude() == nil && sel.GetExclude() == nil:
		return nil
	case sel.GetInclude() != nil:
		out := map[string]*qdrant.Value{}
		for _, f := range sel.GetInclude().GetFields() {
			if v, ok := p[f]; ok {
				out[f] = v
			}
		}
		return out
	case sel.GetExclude() != nil:
		out := map[string]*qdrant.Value{}
		for k, v := range p {
			out[k] = v
		}
		for _, f := range sel.GetExclude().GetFields() {
			delete(out, f)
		}
		return out
	}
	return p
}

func selectVectors(p *point, sel *qdrant.WithVectorsSelector) *qdrant.VectorsOutput {
	if sel == nil || !sel.GetEnable() && sel.GetInclude() == nil {
		return nil
	}
	want := func(name string) bool {
		if sel.GetInclude() == nil {
			return true
		}
		for _, n := range sel.GetInclude().GetNames() {
			if n == name {
				return true
			}
		}
		return false
	}
	out := map[string]*qdrant.VectorOutput{}
	for name, m := range p.sparse {
		if !want(name) {
			continue
		}
		idx := make([]uint32, 0, len(m))
		for i := range m {
			idx = append(idx, i)
		}
		sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
		vals := make([]float32, len(idx))
		for k, i := range idx {
			vals[k] = m[i]
		}
		out[name] = &qdrant.VectorOutput{Vector: &qdrant.VectorOutput_Sparse{Sparse: &qdrant.SparseVector{Indices: idx, Values: vals}}}
	}
	for name, vs := range p.dense {
		if !want(name) {
			continue
		}
		multi := &qdrant.MultiDenseVector{}
		for _, v := range vs {
			multi.Vectors = append(multi.Vectors, &qdrant.DenseVector{Data: v})
		}
		out[name] = &qdrant.VectorOutput{Vector: &qdrant.VectorOutput_MultiDense{MultiDense: multi}}
	}
	return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vectors{Vectors: &qdrant.NamedVectorsOutput{Vectors: out}}}
}

func errorf(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
