package qdrant

import (
	"context"
	"fmt"
	"math"

	"github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari/indexer"
)

// MatchFeatures computes indexer.MatchFeatures of the documents ids for a
// query from their stored text, analyzed as the local store analyzes it.
// Qdrant does not expose document frequencies, so each query term's IDF is
// read back from a one-term query: the best document's score is the IDF
// times that document's stored weight for the term. All the terms go in one
// batch request.
func (s *Store) MatchFeatures(ctx context.Context, query string, ids []string) (map[string]indexer.MatchFeatures, error) {
	pts, err := s.get(ctx, ids, qdrant.NewWithPayloadInclude(fieldID, fieldTitle, fieldText))
	if err != nil {
		return nil, err
	}
	out := make(map[string]indexer.MatchFeatures, len(pts))
	if len(pts) == 0 {
		return out, nil
	}
	idfs, err := s.idfs(ctx, s.analysis.Terms(query))
	if err != nil {
		return nil, err
	}
	avgdl := s.current().Avgdl
	idf := func(t string) float64 { return idfs[t] }
	for _, p := range pts {
		pl := p.GetPayload()
		id := pl[fieldID].GetStringValue()
		out[id] = s.analysis.MatchFeatures(query, pl[fieldTitle].GetStringValue(), pl[fieldText].GetStringValue(), idf, s.opts.BM25, avgdl)
	}
	return out, nil
}

// idfs returns the collection's IDF of each distinct term, as Qdrant's IDF
// modifier computes it.
func (s *Store) idfs(ctx context.Context, terms []string) (map[string]float64, error) {
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	var distinct []string
	out := make(map[string]float64, len(terms))
	for _, t := range terms {
		if _, ok := out[t]; !ok {
			out[t] = 0
			distinct = append(distinct, t)
		}
	}
	if len(distinct) == 0 {
		return out, nil
	}
	queries := make([]*qdrant.QueryPoints, len(distinct))
	for i, t := range distinct {
		queries[i] = &qdrant.QueryPoints{
			CollectionName: s.target,
			Query:          qdrant.NewQuerySparse([]uint32{termIndex(t)}, []float32{1}),
			Using:          qdrant.PtrOf(sparseVector),
			Limit:          qdrant.PtrOf(uint64(1)),
			WithVectors:    qdrant.NewWithVectorsInclude(sparseVector),
			WithPayload:    qdrant.NewWithPayload(false),
		}
	}
	results, err := client.QueryBatch(ctx, &qdrant.QueryBatchPoints{CollectionName: s.target, QueryPoints: queries})
	if err != nil {
		return nil, fmt.Errorf("read term statistics from %s: %w", s.target, err)
	}
	var n float64 = -1
	for i, t := range distinct {
		var best *qdrant.ScoredPoint
		if i < len(results) && len(results[i].GetResult()) > 0 {
			best = results[i].GetResult()[0]
		}
		if w := storedWeight(best, termIndex(t)); w > 0 {
			out[t] = float64(best.GetScore()) / w
			continue
		}
		// No document has the term: df is 0.
		if n < 0 {
			exact := true
			c, err := client.Count(ctx, &qdrant.CountPoints{CollectionName: s.target, Exact: &exact})
			if err != nil {
				return nil, fmt.Errorf("count documents in %s: %w", s.target, err)
			}
			n = float64(c)
		}
		out[t] = math.Log(1 + (n+0.5)/0.5)
	}
	return out, nil
}

// storedWeight is the weight of dimension index in a point's sparse BM25
// vector, 0 when absent.
func storedWeight(p *qdrant.ScoredPoint, index uint32) float64 {
	if p == nil {
		return 0
	}
	v := p.GetVectors().GetVectors().GetVectors()[sparseVector]
	sv := v.GetSparse()
	indices, values := sv.GetIndices(), sv.GetValues()
	if sv == nil {
		// Servers before the oneof layout answer in the older fields.
		//lint:ignore SA1019 read only as a fallback for such servers
		indices, values = v.GetIndices().GetData(), v.GetData() //nolint:staticcheck
	}
	for k, i := range indices {
		if i == index && k < len(values) {
			return float64(values[k])
		}
	}
	return 0
}
