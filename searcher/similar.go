package searcher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// ErrNotFound is returned when the document a request names is not stored.
var ErrNotFound = errors.New("document not found")

// SimilarQuery asks for documents like a stored one.
type SimilarQuery struct {
	// ID or URL names the source document (exactly one is set).
	ID, URL string
	// NumResults is how many documents to return; 0 means DefaultNumResults.
	NumResults int
	// Filter restricts the documents that may appear.
	Filter store.Filter
	// Contents says what each result carries.
	Contents Contents
	// ExcludeSourceDomain drops documents on the source's domain.
	ExcludeSourceDomain bool
	// Debug asks for each side's rank and score per result.
	Debug bool
}

// similarQueryChars bounds the keyword query built from a source document.
const similarQueryChars = 1000

// FindSimilar returns the documents most like the source, never the source
// itself. With an embedding model the source's passages are embedded (the
// vectors its index holds) and their mean is the vector query, fused with a
// keyword query made of its title and opening text; without one, the
// keyword query alone ("more like this").
func (s *Searcher) FindSimilar(ctx context.Context, q SimilarQuery) (*Response, error) {
	resp := &Response{Type: TypeKeyword}
	timer := s.startTimer(resp)
	ctx, release, err := s.pin(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	src, err := s.source(ctx, q)
	if err != nil {
		return nil, err
	}
	sq := Query{
		Text:       similarText(src),
		Type:       TypeKeyword,
		NumResults: q.NumResults,
		Filter:     q.Filter,
		Contents:   q.Contents,
		Debug:      q.Debug,
	}
	if q.ExcludeSourceDomain && src.Domain != "" {
		sq.Filter.ExcludeDomains = append(slices.Clone(sq.Filter.ExcludeDomains), src.Domain)
	}
	if sq.Contents.Highlights != nil && sq.Contents.Highlights.Query == "" {
		h := *sq.Contents.Highlights
		h.Query = cmp.Or(src.Title, cari.Truncate(src.Text, 200, ""))
		sq.Contents.Highlights = &h
	}
	if err := sq.Normalize(s.opts.MaxQueryChars); err != nil {
		return nil, err
	}
	want := sq.NumResults
	sq.NumResults = min(want+1, MaxNumResults+1) // room for the source itself
	kw, err := s.keyword(ctx, sq, max(s.opts.Fusion.Candidates, sq.NumResults), timer)
	if err != nil {
		return nil, err
	}
	var ranked []Fused
	if s.opts.Embedder != nil {
		vec, err := s.sourceVector(ctx, src)
		if err != nil {
			return nil, err
		}
		timer.mark("embed")
		vh, err := s.store.SearchVector(ctx, store.VectorQuery{Vector: vec, Filter: sq.Filter, Limit: max(s.opts.Fusion.Candidates, sq.NumResults), Model: s.opts.Model})
		if err != nil {
			return nil, fmt.Errorf("vector retrieval: %w", err)
		}
		timer.mark("vector")
		resp.Type = TypeHybrid
		resp.Model = s.opts.Model
		ranked = Fuse(kw, vh, s.opts.Fusion)
	} else {
		ranked = Fuse(kw, nil, Fusion{Method: FusionScore})
		for i := range ranked {
			ranked[i].Score = ranked[i].KeywordScore
		}
	}
	ranked = slices.DeleteFunc(ranked, func(f Fused) bool { return f.ID == src.ID })
	if len(ranked) > want {
		ranked = ranked[:want]
	}
	sq.NumResults = want
	resp.Results, err = s.results(ctx, ranked, sq, nil)
	if err != nil {
		return nil, err
	}
	timer.mark("contents")
	return resp, nil
}

// source loads the document a similar query names.
func (s *Searcher) source(ctx context.Context, q SimilarQuery) (cari.Document, error) {
	id := q.ID
	switch {
	case q.ID == "" && q.URL == "":
		return cari.Document{}, &cari.FieldError{Field: "id", Reason: "give the id or the url of the source document"}
	case q.ID != "" && q.URL != "":
		return cari.Document{}, &cari.FieldError{Field: "id", Reason: "give the id or the url of the source document, not both"}
	case q.URL != "":
		ids, err := s.store.IDsForURLs(ctx, []string{q.URL})
		if err != nil {
			return cari.Document{}, err
		}
		if id = ids[q.URL]; id == "" {
			return cari.Document{}, fmt.Errorf("%w: no stored document has url %q", ErrNotFound, q.URL)
		}
	}
	docs, err := s.store.Documents(ctx, []string{id})
	if err != nil {
		return cari.Document{}, err
	}
	d, ok := docs[id]
	if !ok {
		return cari.Document{}, fmt.Errorf("%w: no stored document has id %q", ErrNotFound, id)
	}
	return d, nil
}

// documentEmbedder is the side of an embedder that embeds passages as the
// indexer does; a QueryEmbedder that has it embeds a find-similar source
// as the index embedded it.
type documentEmbedder interface {
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
}

// sourceVector is the mean of the source's passage vectors, embedded as
// the index embedded them (an embedding cache answers without a model
// call when the index was built through it).
func (s *Searcher) sourceVector(ctx context.Context, d cari.Document) ([]float32, error) {
	de, ok := s.opts.Embedder.(documentEmbedder)
	if !ok {
		v, err := s.opts.Embedder.EmbedQuery(ctx, similarText(d))
		if err != nil {
			return nil, fmt.Errorf("%w: embed source: %w", ErrUnavailable, err)
		}
		return v, nil
	}
	chunks := d.Chunks // as the index holds them
	if len(chunks) == 0 {
		chunks = s.hl.chunker.Chunk(d.Text)
	}
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = cari.PassageText(d, c)
	}
	vecs, err := de.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("%w: embed source: %w", ErrUnavailable, err)
	}
	if len(vecs) == 0 {
		return nil, fmt.Errorf("embedder returned no vector for the source")
	}
	mean := make([]float32, len(vecs[0]))
	for _, v := range vecs {
		for j, x := range v {
			mean[j] += x
		}
	}
	return mean, nil
}

// similarText is the keyword query standing for a document: its title and
// opening text, cut at a word boundary.
func similarText(d cari.Document) string {
	t := strings.TrimSpace(d.Title + "\n" + d.Text)
	if len(t) <= similarQueryChars {
		return t
	}
	t = cari.Truncate(t, similarQueryChars, "")
	if i := strings.LastIndexAny(t, " \n\t"); i > 0 {
		t = t[:i]
	}
	return t
}
