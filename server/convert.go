package server

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cari-search/cari"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/store"
)

// Ranges of request fields that the searcher does not use yet but that are
// part of the API contract, so a bad value is refused now rather than later.
const (
	maxRRFK             = 1000
	maxFusionCandidates = 1000
)

var searchTypes = map[cariv1.SearchType]searcher.Type{
	cariv1.SearchType_SEARCH_TYPE_UNSPECIFIED: searcher.TypeAuto,
	cariv1.SearchType_SEARCH_TYPE_AUTO:        searcher.TypeAuto,
	cariv1.SearchType_SEARCH_TYPE_KEYWORD:     searcher.TypeKeyword,
	cariv1.SearchType_SEARCH_TYPE_NEURAL:      searcher.TypeNeural,
	cariv1.SearchType_SEARCH_TYPE_HYBRID:      searcher.TypeHybrid,
}

func protoType(t searcher.Type) cariv1.SearchType {
	switch t {
	case searcher.TypeKeyword:
		return cariv1.SearchType_SEARCH_TYPE_KEYWORD
	case searcher.TypeNeural:
		return cariv1.SearchType_SEARCH_TYPE_NEURAL
	case searcher.TypeHybrid:
		return cariv1.SearchType_SEARCH_TYPE_HYBRID
	}
	return cariv1.SearchType_SEARCH_TYPE_AUTO
}

// searchQuery converts and checks a SearchRequest. Fields the searcher
// checks itself (query, filters) are left to it; num_results is the
// service's (searchService.numResults), which knows the server's cap.
func searchQuery(req *cariv1.SearchRequest) (searcher.Query, error) {
	typ, ok := searchTypes[req.GetType()]
	if !ok {
		return searcher.Query{}, &cari.FieldError{Field: "type", Reason: fmt.Sprintf("unknown search type %d", req.GetType())}
	}
	fusion, err := fusionOf(req.GetFusion())
	if err != nil {
		return searcher.Query{}, err
	}
	filter, err := filterOf(req.GetFilters())
	if err != nil {
		return searcher.Query{}, err
	}
	contents, err := contentsOf(req.GetContents())
	if err != nil {
		return searcher.Query{}, err
	}
	return searcher.Query{
		Text:       req.GetQuery(),
		Type:       typ,
		NumResults: int(req.GetNumResults()),
		Filter:     filter,
		Contents:   contents,
		Fusion:     fusion,
		Debug:      req.GetDebug(),
		Rerank:     req.Rerank,
		RerankTopN: int(req.GetRerankTopN()),
	}, nil
}

var fusionMethods = map[cariv1.FusionMethod]searcher.FusionMethod{
	cariv1.FusionMethod_FUSION_METHOD_UNSPECIFIED: searcher.FusionDefault,
	cariv1.FusionMethod_FUSION_METHOD_RRF:         searcher.FusionRRF,
	cariv1.FusionMethod_FUSION_METHOD_SCORE:       searcher.FusionScore,
}

// fusionOf converts and range-checks fusion overrides; the searcher checks
// the result again after merging its defaults.
func fusionOf(f *cariv1.FusionOptions) (searcher.FusionOverride, error) {
	var o searcher.FusionOverride
	if f == nil {
		return o, nil
	}
	m, ok := fusionMethods[f.GetMethod()]
	if !ok {
		return o, &cari.FieldError{Field: "fusion.method", Reason: fmt.Sprintf("unknown fusion method %d", f.GetMethod())}
	}
	o.Method = m
	if f.RrfK != nil {
		if f.GetRrfK() < 0 || f.GetRrfK() > maxRRFK {
			return o, &cari.FieldError{Field: "fusion.rrf_k", Reason: fmt.Sprintf("must be between 0 and %d, got %d", maxRRFK, f.GetRrfK())}
		}
		k := float64(f.GetRrfK())
		o.RRFK = &k
	}
	if f.Alpha != nil {
		if !(f.GetAlpha() >= 0 && f.GetAlpha() <= 1) {
			return o, &cari.FieldError{Field: "fusion.alpha", Reason: fmt.Sprintf("must be between 0 and 1, got %v", f.GetAlpha())}
		}
		a := float64(f.GetAlpha())
		o.Alpha = &a
	}
	if n := f.GetNumCandidates(); n < 0 || n > maxFusionCandidates {
		return o, &cari.FieldError{Field: "fusion.num_candidates", Reason: fmt.Sprintf("must be between 0 and %d, got %d", maxFusionCandidates, n)}
	}
	o.Candidates = int(f.GetNumCandidates())
	return o, nil
}

func filterOf(f *cariv1.SearchFilters) (store.Filter, error) {
	var out store.Filter
	if f == nil {
		return out, nil
	}
	var err error
	if out.PublishedFrom, out.PublishedTo, err = timeRange("filters.published_date", f.GetPublishedDate()); err != nil {
		return out, err
	}
	if out.CrawledFrom, out.CrawledTo, err = timeRange("filters.crawl_date", f.GetCrawlDate()); err != nil {
		return out, err
	}
	out.IncludeDomains = f.GetIncludeDomains()
	out.ExcludeDomains = f.GetExcludeDomains()
	out.IncludeText = f.GetIncludeText()
	out.ExcludeText = f.GetExcludeText()
	out.Languages = f.GetLanguages()
	out.Categories = f.GetCategories()
	return out, nil
}

func timeRange(field string, r *cariv1.TimeRange) (from, to time.Time, err error) {
	if r == nil {
		return from, to, nil
	}
	if from, err = timeOf(field+".start", r.GetStart()); err != nil {
		return from, to, err
	}
	to, err = timeOf(field+".end", r.GetEnd())
	return from, to, err
}

func timeOf(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, &cari.FieldError{Field: field, Reason: err.Error()}
	}
	return ts.AsTime(), nil
}

func contentsOf(c *cariv1.ContentsOptions) (searcher.Contents, error) {
	var out searcher.Contents
	if c == nil {
		return out, nil
	}
	if t := c.GetText(); t != nil {
		if t.GetMaxCharacters() < 0 {
			return out, &cari.FieldError{Field: "contents.text.max_characters", Reason: fmt.Sprintf("must be 0 or more, got %d", t.GetMaxCharacters())}
		}
		out.Text, out.MaxCharacters = true, int(t.GetMaxCharacters())
	}
	if h := c.GetHighlights(); h != nil {
		out.Highlights = &searcher.Highlights{NumSentences: int(h.GetNumSentences()), PerURL: int(h.GetPerUrl()), Query: h.GetQuery()}
	}
	return out, nil
}

func protoDebug(f *searcher.Fused) *cariv1.ResultDebug {
	if f == nil {
		return nil
	}
	d := &cariv1.ResultDebug{}
	if f.KeywordRank > 0 {
		d.KeywordRank, d.KeywordScore = proto.Int32(int32(f.KeywordRank)), proto.Float32(float32(f.KeywordScore))
	}
	if f.VectorRank > 0 {
		d.VectorRank, d.VectorScore = proto.Int32(int32(f.VectorRank)), proto.Float32(float32(f.VectorScore))
		d.BestChunkOrdinal = proto.Int32(int32(f.Passage))
	}
	if f.KeywordRank > 0 && f.VectorRank > 0 {
		d.FusedScore = proto.Float32(float32(f.FusedScore))
	}
	if f.Reranked {
		d.RerankScore = proto.Float32(float32(f.RerankScore))
	}
	return d
}

func protoResult(r searcher.Result) *cariv1.Result {
	d := r.Document
	out := &cariv1.Result{
		Id:       d.ID,
		Url:      d.URL,
		Title:    d.Title,
		Score:    float32(r.Score),
		Author:   d.Author,
		Text:     r.Text,
		Domain:   d.Domain,
		Language: d.Language,
		Category: d.Category,
		Debug:    protoDebug(r.Debug),
	}
	for _, h := range r.Highlights {
		out.Highlights = append(out.Highlights, h.Text)
		out.HighlightScores = append(out.HighlightScores, float32(h.Score))
	}
	if !d.Published.IsZero() {
		out.PublishedDate = timestamppb.New(d.Published)
	}
	if !d.Crawled.IsZero() {
		out.CrawlDate = timestamppb.New(d.Crawled)
	}
	return out
}

func protoTimings(ts []searcher.StageTiming) []*cariv1.StageTiming {
	out := make([]*cariv1.StageTiming, len(ts))
	for i, t := range ts {
		out[i] = &cariv1.StageTiming{Stage: t.Stage, Duration: durationpb.New(t.Duration)}
	}
	return out
}

// documentOf converts an uploaded document; the indexer validates it.
func documentOf(d *cariv1.Document) (cari.Document, error) {
	out := cari.Document{
		ID:       d.GetId(),
		URL:      d.GetUrl(),
		Title:    d.GetTitle(),
		Text:     d.GetText(),
		Author:   d.GetAuthor(),
		Language: d.GetLanguage(),
		Category: d.GetCategory(),
	}
	var err error
	if out.Published, err = timeOf("published_date", d.GetPublishedDate()); err != nil {
		return out, err
	}
	if out.Crawled, err = timeOf("crawl_date", d.GetCrawlDate()); err != nil {
		return out, err
	}
	return out, nil
}
