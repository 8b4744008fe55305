package qdrant

import (
	"context"
	"fmt"
	"math"

	"github.com/qdrant/go-client/qdrant"

	"github.com/cari-search/cari/store"
)

// MatchDocuments loads the documents ids, in one request for their
// payloads, and computes their store.MatchFeatures for a query from their
// stored text, analysed as the local store analyses it: in one body field,
// the one most candidates are in (candidates of another language match
// nothing). Qdrant does not expose document frequencies, so each query
// term's IDF is read back from a one-term query: the best document's score
// is the IDF times that document's stored weight for the term. All the
// terms go in one batch request.
func (s *Store) MatchDocuments(ctx context.Context, query string, ids []string) (map[string]store.MatchedDocument, error) {
	pts, err := s.get(ctx, ids, documentPayload())
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.MatchedDocument, len(pts))
	if len(pts) == 0 {
		return out, nil
	}
	field := majorityField(pts)
	var terms []string
	for _, t := range s.analysis.Tokens(field, query) {
		terms = append(terms, t.Term)
	}
	idfs, err := s.idfs(ctx, field, terms)
	if err != nil {
		return nil, err
	}
	// Candidates in another field match none of the query's terms as
	// field analyses them, as on the local store.
	texts := make([]store.DocText, len(pts))
	for i, p := range pts {
		pl := p.GetPayload()
		d, err := document(pl)
		if err != nil {
			return nil, fmt.Errorf("load document %q: %w", d.ID, err)
		}
		out[d.ID] = store.MatchedDocument{Document: d}
		texts[i] = store.DocText{ID: d.ID, Title: d.Title, Text: d.Text, Elsewhere: pl[fieldBodyField].GetStringValue() != field}
	}
	idf := func(t string) float64 { return idfs[t] }
	for id, f := range s.analysis.MatchFeatures(field, query, texts, idf, s.opts.fieldBM25(field), s.current().Avgdl[field]) {
		m := out[id]
		m.Match = f
		out[id] = m
	}
	return out, nil
}

// majorityField is the body field most of pts are in; ties go to the
// first met.
func majorityField(pts []*qdrant.RetrievedPoint) string {
	counts := map[string]int{}
	best := ""
	for _, p := range pts {
		f := p.GetPayload()[fieldBodyField].GetStringValue()
		counts[f]++
		if best == "" || counts[f] > counts[best] {
			best = f
		}
	}
	return best
}

// idfs returns the IDF of each distinct term (analysed as field analyses
// it), as Qdrant's IDF modifier computes it over every document.
func (s *Store) idfs(ctx context.Context, field string, terms []string) (map[string]float64, error) {
	target := s.readTarget(ctx)
	client, err := s.conn()
	if err != nil {
		return nil, err
	}
	terms = distinct(terms)
	out := make(map[string]float64, len(terms))
	if len(terms) == 0 {
		return out, nil
	}
	vec := sparseVector
	queries := make([]*qdrant.QueryPoints, len(terms))
	for i, t := range terms {
		queries[i] = &qdrant.QueryPoints{
			CollectionName: target,
			Query:          qdrant.NewQuerySparse([]uint32{termIndex(t)}, []float32{1}),
			Using:          qdrant.PtrOf(vec),
			Limit:          qdrant.PtrOf(uint64(1)),
			WithVectors:    qdrant.NewWithVectorsInclude(vec),
			WithPayload:    qdrant.NewWithPayload(false),
		}
	}
	results, err := client.QueryBatch(ctx, &qdrant.QueryBatchPoints{CollectionName: target, QueryPoints: queries})
	if err != nil {
		return nil, fmt.Errorf("read term statistics from %s: %w", target, err)
	}
	var n float64 = -1
	for i, t := range terms {
		var best *qdrant.ScoredPoint
		if i < len(results) && len(results[i].GetResult()) > 0 {
			best = results[i].GetResult()[0]
		}
		if w := storedWeight(best, vec, termIndex(t)); w > 0 {
			out[t] = float64(best.GetScore()) / w
			continue
		}
		// No document has the term: df is 0.
		if n < 0 {
			exact := true
			c, err := client.Count(ctx, &qdrant.CountPoints{CollectionName: target, Exact: &exact})
			if err != nil {
				return nil, fmt.Errorf("count documents in %s: %w", target, err)
			}
			n = float64(c)
		}
		out[t] = math.Log(1 + (n+0.5)/0.5)
	}
	return out, nil
}

// storedWeight is the weight of dimension index in a point's sparse vector
// vec, 0 when absent.
func storedWeight(p *qdrant.ScoredPoint, vec string, index uint32) float64 {
	if p == nil {
		return 0
	}
	v := p.GetVectors().GetVectors().GetVectors()[vec]
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
