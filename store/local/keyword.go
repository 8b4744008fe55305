package local

import (
	"context"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari/store"
)

// SearchKeyword scores every document containing a query term with BM25 over
// the body fields and returns the best q.Limit that pass q.Filter, best first.
// Each document's body sits in the field of its language, so each document
// is scored with the query analysed as its own language is, under that
// field's statistics; which fields a query searches depends on its detected
// language and on which fields hold documents (store.Analysis.QueryFieldsAmong).
// Equal scores are ordered by document ID, so results are deterministic.
func (s *Store) SearchKeyword(ctx context.Context, q store.KeywordQuery) ([]store.Hit, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	r, g, release, err := s.snapshotGen(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := g.checkCategories(q.Filter); err != nil {
		return nil, err
	}
	plan, err := s.planKeyword(ctx, r, q)
	if err != nil || plan == nil {
		return nil, err
	}
	plan.impacts = g.impacts
	best, _, err := s.topBM25(ctx, r, plan, q.Limit)
	if err != nil {
		return nil, err
	}
	return resolveHits(r, best, q.Limit)
}

// keywordPlan is what a keyword query needs of snapshot r before reading
// postings: its statistics, the query's terms per field searched, and the
// documents the filter admits.
type keywordPlan struct {
	stats  corpusStats
	fields []store.FieldTerms
	allow  docSet
	// impacts bound the snapshot's blocks of postings; nil bounds every
	// posting by BM25's ceiling.
	impacts *impactIndex
}

// planKeyword analyses q for the fields that hold documents in r; nil when
// no term is left to search.
func (s *Store) planKeyword(ctx context.Context, r index.IndexReader, q store.KeywordQuery) (*keywordPlan, error) {
	stats, err := snapshotStats(r)
	if err != nil {
		return nil, err
	}
	populated := make(map[string]bool, len(stats.Fields))
	for f, fs := range stats.Fields {
		if fs.Docs > 0 {
			populated[f] = true
		}
	}
	fields := store.LimitQueryTerms(s.analyzer.QueryFieldsAmong(q.Text, populated))
	if len(fields) == 0 {
		return nil, nil
	}
	allow, err := s.compileFilter(ctx, r, q.Filter)
	if err != nil {
		return nil, err
	}
	return &keywordPlan{stats: stats, fields: fields, allow: allow}, nil
}

// Terms returns the index terms of text: what the keyword index would make
// of it (lower-cased, stop words dropped, stemmed) as a query, in the
// analysis of its detected language.
func (s *Store) Terms(text string) []string { return s.analyzer.Terms(text) }

// TermsIn returns the index terms of text analysed as a document in the
// language with BCP 47 tag language ("" for unknown) is: highlights compare
// a query with a document's sentences in the document's analysis.
func (s *Store) TermsIn(text, language string) []string { return s.analyzer.TermsIn(text, language) }

// collectionStats returns what BM25 needs of one body field in snapshot r:
// the number of documents in the collection (all fields), which IDF is
// computed over, and the average analyzed length of the field's documents,
// which its length normalisation uses.
func collectionStats(r index.IndexReader, field string) (docs uint64, avgdl float64, err error) {
	stats, err := snapshotStats(r)
	if err != nil {
		return 0, 0, err
	}
	_, avgdl = stats.field(field)
	return uint64(max(stats.Docs, 0)), avgdl, nil
}
