package local

import (
	"context"
	"fmt"
	"math"
	"slices"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// MatchDocuments loads the documents ids from one snapshot and computes
// their store.MatchFeatures for a query, from the postings with positions
// (term vectors) of the query's terms, reading only the candidates'
// entries. Each document's stored fields are read once, for the document
// and its features alike. IDs not stored are absent.
func (s *Store) MatchDocuments(ctx context.Context, query string, ids []string) (map[string]store.MatchedDocument, error) {
	r, g, release, err := s.snapshotGen(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	cands, err := candidates(ctx, r, ids)
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return map[string]store.MatchedDocument{}, nil
	}
	// Features compare the query with one body field: the one most
	// candidates are in (candidates of another language match nothing).
	field := majorityField(cands)
	q := s.analyzer.FeatureQuery(field, query, s.opts.fieldBM25(field))
	n, avgdl, err := collectionStats(r, field)
	if err != nil {
		return nil, err
	}
	for ti := range q.Terms {
		if err := collectMatches(ctx, r, q, ti, cands, float64(n), avgdl); err != nil {
			return nil, err
		}
	}
	docs := make([]*store.FeatureDoc, len(cands))
	for i, c := range cands {
		docs[i] = &c.FeatureDoc
	}
	feats := q.Features(docs)
	out := make(map[string]store.MatchedDocument, len(cands))
	for _, c := range cands {
		g.categorize(&c.doc)
		out[c.ID] = store.MatchedDocument{Document: c.doc, Match: feats[c.ID]}
	}
	return out, ctx.Err()
}

// collectMatches sets the IDF of q's term ti among n documents and adds its
// matches, from its postings in snapshot r, to the candidates.
func collectMatches(ctx context.Context, r index.IndexReader, q *store.FeatureQuery, ti int, cands []*candidate, n, avgdl float64) error {
	term := q.Terms[ti]
	tfr, err := r.TermFieldReader(ctx, term.Text, q.Field(), true, true, true)
	if err != nil {
		return fmt.Errorf("read postings of %q: %w", term.Text, err)
	}
	defer tfr.Close()
	q.IDFs[ti] = q.BM25.IDF(n, float64(tfr.Count()))
	var tfd index.TermFieldDoc
	for _, c := range cands {
		p, err := tfr.Advance(c.num, &tfd)
		if err != nil {
			return err
		}
		if p == nil {
			return nil
		}
		if !p.ID.Equals(c.num) {
			continue
		}
		c.Length = math.Round(1 / float64(p.Norm*p.Norm))
		m := store.TermMatch{Term: ti}
		for _, v := range p.Vectors {
			m.Positions = append(m.Positions, int(v.Pos))
			if int(v.Start) < c.TitleBytes {
				m.InTitle = true
				m.TitleFreq++
			}
		}
		c.Matches = append(c.Matches, m)
		c.BM25 += float64(term.Count) * q.BM25.TermScore(q.IDFs[ti], float64(p.Freq), c.Length, avgdl)
	}
	return nil
}

// candidate collects one document's matches, in internal-number order so
// that each posting list is read forward once.
type candidate struct {
	store.FeatureDoc
	doc   cari.Document
	num   index.IndexInternalID
	field string // the body field
}

// candidates loads the stored documents ids from snapshot r, in
// internal-number order; IDs not stored are left out.
func candidates(ctx context.Context, r index.IndexReader, ids []string) ([]*candidate, error) {
	var out []*candidate
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		num, err := r.InternalID(id)
		if err != nil {
			return nil, err
		}
		if num == nil {
			continue
		}
		doc, field, found, err := loadStored(r, id)
		if err != nil {
			return nil, fmt.Errorf("load document %q: %w", id, err)
		}
		if !found {
			continue
		}
		out = append(out, &candidate{FeatureDoc: store.FeatureDoc{ID: id, Title: doc.Title, TitleBytes: len(doc.Title)},
			doc: doc, num: num, field: field})
	}
	slices.SortFunc(out, func(a, b *candidate) int { return a.num.Compare(b.num) })
	return out, nil
}

// majorityField returns the body field most candidates are in, English on
// a tie.
func majorityField(cands []*candidate) string {
	count := map[string]int{}
	best := store.FieldBody
	for _, c := range cands {
		count[c.field]++
		if c.field != "" && count[c.field] > count[best] {
			best = c.field
		}
	}
	return best
}
