package local

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// docSet is the set of documents a filter lets through, by internal number
// in one snapshot. A nil set lets everything through; when exclude is true
// the set lists the documents to drop instead.
type docSet struct {
	nums    map[uint64]struct{}
	exclude bool
}

func (d docSet) has(num uint64) bool {
	if d.nums == nil {
		return true
	}
	_, in := d.nums[num]
	return in != d.exclude
}

// compileFilter turns f into the set of documents it allows in snapshot r.
// Filters with only exclusions are compiled to the (usually small) set of
// documents they exclude, so that a plain exclude-domain filter does not
// enumerate the whole index.
func (s *Store) compileFilter(ctx context.Context, r index.IndexReader, f store.Filter) (docSet, error) {
	if f.IsZero() {
		return docSet{}, nil
	}
	if err := s.analyzer.CheckPhrases(f); err != nil {
		return docSet{}, err
	}
	must, mustNot := filterClauses(f)
	var q query.Query
	exclude := false
	switch {
	case len(must) == 0:
		q, exclude = query.NewDisjunctionQuery(mustNot), true
	default:
		b := query.NewBooleanQuery(must, nil, nil)
		if len(mustNot) > 0 {
			b.AddMustNot(mustNot...)
		}
		q = b
	}
	nums, err := s.matchAll(ctx, r, q)
	if err != nil {
		return docSet{}, fmt.Errorf("apply filters: %w", err)
	}
	return docSet{nums: nums, exclude: exclude}, nil
}

// checkCategories refuses a category filter on a generation made before
// categories were stored, where it would find nothing.
func (g *generation) checkCategories(f store.Filter) error {
	if len(f.Categories) > 0 && !g.categories {
		return fmt.Errorf("%w (generation %s)", store.ErrNoCategories, g.m.Name)
	}
	return nil
}

// filterClauses splits a filter into bleve queries that must match and
// queries that must not.
func filterClauses(f store.Filter) (must, mustNot []query.Query) {
	if len(f.IncludeDomains) > 0 {
		must = append(must, termsQuery(fieldDomainKeys, f.IncludeDomains, cari.NormalizeDomain))
	}
	if len(f.ExcludeDomains) > 0 {
		mustNot = append(mustNot, termsQuery(fieldDomainKeys, f.ExcludeDomains, cari.NormalizeDomain))
	}
	if len(f.Languages) > 0 {
		must = append(must, termsQuery(fieldLanguageKeys, f.Languages, store.NormalizeLanguage))
	}
	if len(f.Categories) > 0 {
		must = append(must, termsQuery(fieldCategory, f.Categories, normalizeCategory))
	}
	if q := dateRange(fieldPublished, f.PublishedFrom, f.PublishedTo); q != nil {
		must = append(must, q)
	}
	if q := dateRange(fieldCrawled, f.CrawledFrom, f.CrawledTo); q != nil {
		must = append(must, q)
	}
	for _, p := range f.IncludeText {
		must = append(must, phraseQuery(p))
	}
	for _, p := range f.ExcludeText {
		mustNot = append(mustNot, phraseQuery(p))
	}
	return must, mustNot
}

// normalizeCategory brings a category filter value to the stored form.
func normalizeCategory(c string) string { return strings.ToLower(strings.TrimSpace(c)) }

func termsQuery(field string, values []string, norm func(string) string) query.Query {
	qs := make([]query.Query, 0, len(values))
	for _, v := range values {
		if norm != nil {
			v = norm(v)
		}
		t := query.NewTermQuery(v)
		t.SetField(field)
		qs = append(qs, t)
	}
	return query.NewDisjunctionQuery(qs)
}

func dateRange(field string, from, to time.Time) query.Query {
	if from.IsZero() && to.IsZero() {
		return nil
	}
	if !from.IsZero() {
		from = clampTime(from)
	}
	if !to.IsZero() {
		to = clampTime(to)
	}
	epoch := time.Unix(0, 0)
	if !from.IsZero() && !to.IsZero() && from.Before(epoch) && !to.Before(epoch) {
		// bleve's numeric range searcher never ends on some ranges that
		// cross 1970 (-1s to 1s spins forever); split at the epoch, where
		// each side is a range it handles.
		return query.NewDisjunctionQuery([]query.Query{
			inclusiveDateRange(field, from, epoch.Add(-time.Nanosecond)),
			inclusiveDateRange(field, epoch, to),
		})
	}
	return inclusiveDateRange(field, from, to)
}

func inclusiveDateRange(field string, from, to time.Time) query.Query {
	inclusive := true
	q := query.NewDateRangeInclusiveQuery(from, to, &inclusive, &inclusive)
	q.SetField(field)
	return q
}

// phraseQuery matches the phrase in every body field, as each field's
// analyzer analyses it, so "climate changes" also matches "climate change"
// in English documents.
func phraseQuery(p string) query.Query {
	fields := store.Fields()
	qs := make([]query.Query, 0, len(fields))
	for _, field := range fields {
		q := query.NewMatchPhraseQuery(p)
		q.SetField(field)
		q.Analyzer = store.FieldAnalyzer(field)
		qs = append(qs, q)
	}
	return query.NewDisjunctionQuery(qs)
}

// matchAll runs q on snapshot r without scoring and returns every match.
func (s *Store) matchAll(ctx context.Context, r index.IndexReader, q query.Query) (map[uint64]struct{}, error) {
	ctx = context.WithValue(ctx, search.GetScoringModelCallbackKey,
		search.GetScoringModelCallbackFn(func() string { return index.BM25Scoring }))
	sr, err := q.Searcher(ctx, r, s.mapping, search.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, err
	}
	defer sr.Close()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(sr.DocumentMatchPoolSize(), 0)}
	out := make(map[uint64]struct{})
	for i := 0; ; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		m, err := sr.Next(sctx)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return out, nil
		}
		out[m.IndexInternalID.Value()] = struct{}{}
		sctx.DocumentMatchPool.Put(m)
	}
}
