// Package searcher answers queries: it chooses the retrieval, runs it against
// a store, and turns the hits into results with the contents asked for.
package searcher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/store"

	"github.com/cari-search/cari"
)

// Store is what the searcher needs from an index.
type Store interface {
	// SearchKeyword returns the best BM25 matches that pass the filter.
	SearchKeyword(ctx context.Context, q store.KeywordQuery) ([]store.Hit, error)
	// SearchVector returns the documents whose passages lie nearest the
	// query vector among those that pass the filter.
	SearchVector(ctx context.Context, q store.VectorQuery) ([]store.Hit, error)
	// Documents loads stored documents; missing IDs are absent from the map.
	Documents(ctx context.Context, ids []string) (map[string]cari.Document, error)
	// IDsForURLs maps stored documents' URLs to their IDs; URLs not stored
	// are absent from the map.
	IDsForURLs(ctx context.Context, urls []string) (map[string]string, error)
	// Terms analyzes text as the keyword index does.
	Terms(text string) []string
	// MatchDocuments loads stored documents and describes how each matches
	// the query's terms, reading each once; missing IDs are absent.
	MatchDocuments(ctx context.Context, query string, ids []string) (map[string]store.MatchedDocument, error)
}

// QueryEmbedder turns a query into a vector in the space of the index's
// passage vectors.
type QueryEmbedder interface {
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
}

// ErrUnavailable is returned for a search type that this searcher cannot
// run, such as neural search without an embedding model.
var ErrUnavailable = errors.New("search type unavailable")

// Options configure a Searcher. The zero value searches keywords only.
type Options struct {
	// Embedder embeds queries for neural and hybrid search; nil leaves only
	// keyword search (AUTO then resolves to KEYWORD).
	Embedder QueryEmbedder
	// Model names the embedding model, reported in responses.
	Model string
	// Fusion is the default for hybrid searches; zero fields take
	// DefaultFusion's.
	Fusion Fusion
	// Reranker re-scores the best candidates; nil turns re-ranking off.
	Reranker Reranker
	// Rerank configures re-ranking; zero fields take DefaultRerank's.
	Rerank RerankOptions
	// Now reads the clock for stage timings; nil means time.Now. Tests
	// set it to make durations exact.
	Now func() time.Time
	// MaxQueryChars is the longest query text a search takes, in
	// characters; 0 means DefaultMaxQueryChars.
	MaxQueryChars int
}

// DefaultFusion is the hybrid default without a tuned per-model setting:
// reciprocal rank fusion with the customary k of 60, both sides equal.
var DefaultFusion = Fusion{Method: FusionRRF, RRFK: 60, Alpha: 0.5, Candidates: 100}

// StaticFusion is the hybrid default for a static word-vector model, a weak
// signal that helps only as a small weight in a score combination; chosen
// on scifact/train, see docs/EVALUATION.md.
var StaticFusion = Fusion{Method: FusionScore, Alpha: 0.05, Candidates: 100}

// FusionForModel is the hybrid default for an embedding model: StaticFusion
// for static word vectors, else DefaultFusion (a transformer model is a
// strong signal, fused by rank).
func FusionForModel(staticWordVectors bool) Fusion {
	if staticWordVectors {
		return StaticFusion
	}
	return DefaultFusion
}

// Searcher runs queries against one store. It is safe for concurrent use.
type Searcher struct {
	store Store
	opts  Options
	hl    highlighter
	cache *scoreCache
}

// New returns a Searcher over store.
func New(store Store, opts Options) *Searcher {
	f := &opts.Fusion
	if f.Method == FusionDefault {
		f.Method = DefaultFusion.Method
	}
	if f.RRFK == 0 {
		f.RRFK = DefaultFusion.RRFK
	}
	if f.Alpha == 0 {
		f.Alpha = DefaultFusion.Alpha
	}
	if f.Candidates == 0 {
		f.Candidates = DefaultFusion.Candidates
	}
	opts.Rerank = opts.Rerank.withDefaults()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxQueryChars <= 0 {
		opts.MaxQueryChars = DefaultMaxQueryChars
	}
	chunker, err := analysis.NewChunker(analysis.ChunkOptions{})
	if err != nil {
		// The sentence model is compiled into the binary; failing to load
		// it is a build defect, not a runtime condition.
		panic(fmt.Sprintf("load sentence model: %v", err))
	}
	return &Searcher{store: store, opts: opts, hl: makeHighlighter(store, chunker), cache: newScoreCache(opts.Rerank.CacheSize)}
}

// Result is one document found, with the contents asked for.
type Result struct {
	Document cari.Document
	// Score is the document's score under the retrieval that ran; higher is
	// better. Scores are comparable only within one response.
	Score float64
	// Text is set only when the query asked for contents text.
	Text *string
	// Highlights are set only when the query asked for them.
	Highlights []Highlight
	// Debug holds each side's rank and score when the query asked for it.
	Debug *Fused
}

// StageTiming is how long one stage of a search took.
type StageTiming struct {
	Stage    string
	Duration time.Duration
}

// Response is the answer to a Query.
type Response struct {
	// Type is the retrieval that ran (never TypeAuto).
	Type    Type
	Results []Result
	// Timings are the stages in the order they ran. Each runs from the end
	// of the one before, the first from the call, so that they add up to
	// the search's time.
	Timings []StageTiming
	// Model is the embedding model the query was embedded with, if any.
	Model string
	// Reranked reports whether the re-ranker ordered the results; when it
	// was asked for and did not, RerankSkipped says why.
	Reranked      bool
	RerankSkipped string
}

// Pinner is a store that can hold one index generation for the whole of a
// search (local.Store.Pin), so that a reindex swapping in another
// generation meanwhile never mixes the two in one response.
type Pinner interface {
	Pin(ctx context.Context) (context.Context, func(), error)
}

// pin holds the store's serving generation for ctx, when the store can.
func (s *Searcher) pin(ctx context.Context) (context.Context, func(), error) {
	p, ok := s.store.(Pinner)
	if !ok {
		return ctx, func() {}, nil
	}
	return p.Pin(ctx)
}

// Search validates q and runs it.
func (s *Searcher) Search(ctx context.Context, q Query) (*Response, error) {
	resp := &Response{}
	timer := s.startTimer(resp)
	if err := q.Normalize(s.opts.MaxQueryChars); err != nil {
		return nil, err
	}
	ctx, release, err := s.pin(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	resp.Type = s.resolve(q)
	rerank := s.rerankWanted(q)
	depth := q.NumResults
	if rerank {
		depth = max(depth, s.rerankDepth(q))
	}
	ranked, err := s.retrieve(ctx, q, resp.Type, depth, timer)
	if err != nil {
		return nil, err
	}
	var loaded map[string]cari.Document
	switch {
	case rerank:
		ranked, loaded = s.rerank(ctx, q, ranked, resp, timer)
	case s.opts.Reranker == nil:
		resp.RerankSkipped = "no re-ranker is configured on this server"
	default:
		resp.RerankSkipped = "not requested"
	}
	if len(ranked) > q.NumResults {
		ranked = ranked[:q.NumResults]
	}
	resp.Results, err = s.results(ctx, ranked, q, loaded)
	if err != nil {
		return nil, err
	}
	timer.mark("contents")
	if resp.Type != TypeKeyword {
		resp.Model = s.opts.Model
	}
	return resp, nil
}

// retrieve runs the first stage: keyword, vector or both fused, and returns
// up to n documents best first.
func (s *Searcher) retrieve(ctx context.Context, q Query, typ Type, n int, timer *stageTimer) ([]Fused, error) {
	if typ != TypeKeyword && s.opts.Embedder == nil {
		return nil, fmt.Errorf("%w: %s search needs an embedding model, and this server has none configured; use type keyword or auto",
			ErrUnavailable, typ)
	}
	fusion, err := s.fusion(q.Fusion)
	if err != nil {
		return nil, err
	}
	var ranked []Fused
	switch typ {
	case TypeKeyword:
		hits, err := s.keyword(ctx, q, n, timer)
		if err != nil {
			return nil, err
		}
		ranked = Fuse(hits, nil, Fusion{Method: FusionScore, Alpha: 0})
		for i := range ranked {
			ranked[i].Score = ranked[i].KeywordScore
		}
	case TypeNeural:
		hits, err := s.vector(ctx, q, n, timer)
		if err != nil {
			return nil, err
		}
		ranked = Fuse(nil, hits, Fusion{Method: FusionScore, Alpha: 1})
		for i := range ranked {
			ranked[i].Score = ranked[i].VectorScore
		}
	case TypeHybrid:
		k := max(fusion.Candidates, n)
		kw, err := s.keyword(ctx, q, k, timer)
		if err != nil {
			return nil, err
		}
		vec, err := s.vector(ctx, q, k, timer)
		if err != nil {
			return nil, err
		}
		ranked = withEvidence(Fuse(kw, vec, fusion), s.similarityFloor())
		timer.mark("fusion")
	}
	if len(ranked) > n {
		ranked = ranked[:n]
	}
	return ranked, nil
}

func (s *Searcher) keyword(ctx context.Context, q Query, limit int, t *stageTimer) ([]store.Hit, error) {
	hits, err := s.store.SearchKeyword(ctx, store.KeywordQuery{Text: q.Text, Filter: q.Filter, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("keyword retrieval: %w", err)
	}
	t.mark("keyword")
	return hits, nil
}

func (s *Searcher) vector(ctx context.Context, q Query, limit int, t *stageTimer) ([]store.Hit, error) {
	vec, err := s.opts.Embedder.EmbedQuery(ctx, q.Text)
	if err != nil {
		return nil, fmt.Errorf("%w: embed query: %w", ErrUnavailable, err)
	}
	t.mark("embed")
	hits, err := s.store.SearchVector(ctx, store.VectorQuery{Vector: vec, Filter: q.Filter, Limit: limit, Model: s.opts.Model})
	if err != nil {
		return nil, fmt.Errorf("vector retrieval: %w", err)
	}
	t.mark("vector")
	return hits, nil
}

// fusion applies a query's overrides to the searcher's default.
func (s *Searcher) fusion(o FusionOverride) (Fusion, error) {
	f := s.opts.Fusion
	if o.Method != FusionDefault {
		f.Method = o.Method
	}
	if o.RRFK != nil {
		f.RRFK = *o.RRFK
	}
	if o.Alpha != nil {
		f.Alpha = *o.Alpha
	}
	if o.Candidates != 0 {
		f.Candidates = o.Candidates
	}
	return f, f.Validate()
}

// resolve picks the retrieval for a query. Without an embedding model every
// query runs on keywords; with one, AUTO sends exact-looking queries (quoted
// phrases, identifiers, a single term) to keywords and the rest to hybrid.
func (s *Searcher) resolve(q Query) Type {
	if q.Type != TypeAuto {
		return q.Type
	}
	if s.opts.Embedder == nil || looksExact(q.Text) {
		return TypeKeyword
	}
	return TypeHybrid
}

// stageTimer records how long each stage took since the previous mark, the
// first since the timer started.
type stageTimer struct {
	resp *Response
	now  func() time.Time
	last time.Time
}

// startTimer starts timing the stages of resp now.
func (s *Searcher) startTimer(resp *Response) *stageTimer {
	return &stageTimer{resp: resp, now: s.opts.Now, last: s.opts.Now()}
}

func (t *stageTimer) mark(stage string) {
	now := t.now()
	t.resp.Timings = append(t.resp.Timings, StageTiming{stage, now.Sub(t.last)})
	t.last = now
}

// results loads the hits' documents, but for those already loaded (the
// re-ranked candidates, read from the same pinned generation). A hit whose
// document vanished between retrieval and loading (a concurrent delete) is
// dropped.
func (s *Searcher) results(ctx context.Context, ranked []Fused, q Query, loaded map[string]cari.Document) ([]Result, error) {
	docs := make(map[string]cari.Document, len(ranked))
	var ids []string
	for _, h := range ranked {
		if d, ok := loaded[h.ID]; ok {
			docs[h.ID] = d
		} else {
			ids = append(ids, h.ID)
		}
	}
	if len(ids) > 0 {
		got, err := s.store.Documents(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("load results: %w", err)
		}
		maps.Copy(docs, got)
	}
	out := make([]Result, 0, len(ranked))
	for i, h := range ranked {
		d, ok := docs[h.ID]
		if !ok {
			continue
		}
		r := Result{Document: d, Score: h.Score, Text: textContents(d, q.Contents)}
		if hl := q.Contents.Highlights; hl != nil {
			r.Highlights = s.hl.highlightsIn(d.Text, d.Language, cmp.Or(hl.Query, q.Text), *hl)
		}
		if q.Debug {
			r.Debug = &ranked[i]
		}
		out = append(out, r)
	}
	return out, nil
}

func textContents(d cari.Document, c Contents) *string {
	if !c.Text {
		return nil
	}
	t := cari.Truncate(d.Text, c.MaxCharacters, "")
	return &t
}
