package qdrant

import (
	"fmt"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// filter translates a Cari filter into a Qdrant filter, nil for none.
// Phrases are analyzed as the body was, so they match the same documents as
// on the local store. Callers check the filter first (checkFilter).
func (s *Store) filter(f store.Filter) *qdrant.Filter {
	if f.IsZero() {
		return nil
	}
	var must, mustNot []*qdrant.Condition
	if len(f.IncludeDomains) > 0 {
		must = append(must, qdrant.NewMatchKeywords(fieldDomainKeys, normalized(f.IncludeDomains, cari.NormalizeDomain)...))
	}
	if len(f.ExcludeDomains) > 0 {
		mustNot = append(mustNot, qdrant.NewMatchKeywords(fieldDomainKeys, normalized(f.ExcludeDomains, cari.NormalizeDomain)...))
	}
	if len(f.Languages) > 0 {
		must = append(must, qdrant.NewMatchKeywords(fieldLanguageKeys, normalized(f.Languages, store.NormalizeLanguage)...))
	}
	if len(f.Categories) > 0 {
		must = append(must, qdrant.NewMatchKeywords(fieldCategory, normalized(f.Categories, strings.ToLower)...))
	}
	if c := dateRange(fieldPublished, f.PublishedFrom, f.PublishedTo); c != nil {
		must = append(must, c)
	}
	if c := dateRange(fieldCrawled, f.CrawledFrom, f.CrawledTo); c != nil {
		must = append(must, c)
	}
	for _, p := range f.IncludeText {
		must = append(must, s.phrase(p))
	}
	for _, p := range f.ExcludeText {
		mustNot = append(mustNot, s.phrase(p))
	}
	return &qdrant.Filter{Must: must, MustNot: mustNot}
}

// checkFilter refuses what a filter cannot mean here: a phrase that
// keeps no term in some body field (store.Analysis.CheckPhrases), and a
// category filter on a collection whose points carry no categories.
func (s *Store) checkFilter(f store.Filter) error {
	if err := s.analysis.CheckPhrases(f); err != nil {
		return err
	}
	if m := s.current(); len(f.Categories) > 0 && !m.Categories {
		return fmt.Errorf("%w (collection %s)", store.ErrNoCategories, m.Collection)
	}
	return nil
}

// phrase matches a phrase in any body field, analysed as that field
// analyses it, as the local store's phrase filter does.
func (s *Store) phrase(p string) *qdrant.Condition {
	var any []*qdrant.Condition
	for _, f := range store.Fields() {
		any = append(any, qdrant.NewMatchPhrase(termsField(f), phraseTerms(s.analysis.Tokens(f, p))))
	}
	return qdrant.NewFilterAsCondition(&qdrant.Filter{Should: any})
}

func normalized(values []string, norm func(string) string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = norm(strings.TrimSpace(v))
	}
	return out
}

func dateRange(field string, from, to time.Time) *qdrant.Condition {
	if from.IsZero() && to.IsZero() {
		return nil
	}
	r := &qdrant.DatetimeRange{}
	if !from.IsZero() {
		r.Gte = timestamppb.New(from)
	}
	if !to.IsZero() {
		r.Lte = timestamppb.New(to)
	}
	return qdrant.NewDatetimeRange(field, r)
}
