package catalog

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// Settings are one collection's own choices. The zero value of each field
// means the process's default (its flags and configuration), so that the
// collection Default, made with none, behaves exactly as a data directory
// before collections did.
type Settings struct {
	// Language is the BCP 47 tag taken for the documents that name none
	// (they skip language detection); "" detects each document's.
	Language string `json:"language,omitempty"`
	// BM25 are the keyword side's parameters; zero: store.DefaultBM25.
	BM25 store.BM25 `json:"bm25,omitzero"`
	// Embedder is the embedding provider ("none": keyword only) and
	// EmbedModel its model. A collection's vectors come from one model, so
	// neither changes after creation (Update refuses): a collection with
	// another model is a new collection, or a reindex.
	Embedder   string `json:"embedder,omitempty"`
	EmbedModel string `json:"embed_model,omitempty"`
	// Reranker is the re-ranker's kind ("none": no re-ranking).
	Reranker string `json:"reranker,omitempty"`
	// URLTemplate makes the URL of a result whose document has none, from
	// its ID: "{id}" is replaced by the ID, escaped as a path segment
	// (https://example.org/docs/{id}).
	URLTemplate string `json:"url_template,omitempty"`
	// Limits bound what the collection may hold and be asked.
	Limits Limits `json:"limits,omitzero"`
}

// Validate reports a setting out of its range, naming it as the API and
// the flags name it.
func (s *Settings) Validate() error {
	tag, err := cari.LanguageTag(s.Language)
	if err != nil {
		return &cari.FieldError{Field: "language", Reason: err.Error()}
	}
	s.Language = tag
	if s.BM25 != (store.BM25{}) {
		if err := s.BM25.Validate(); err != nil {
			return &cari.FieldError{Field: "bm25", Reason: err.Error()}
		}
	}
	if s.URLTemplate != "" {
		// The Exa endpoints find a document's ID again between the text
		// before and after {id} (server/exa's newDocURLs), so it is there
		// once.
		if strings.Count(s.URLTemplate, "{id}") != 1 {
			return &cari.FieldError{Field: "url_template", Reason: fmt.Sprintf("%q must contain {id}, where the document's ID goes, exactly once", s.URLTemplate)}
		}
		u, err := url.Parse(strings.ReplaceAll(s.URLTemplate, "{id}", "x"))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return &cari.FieldError{Field: "url_template", Reason: fmt.Sprintf("%q does not make an absolute URL", s.URLTemplate)}
		}
	}
	if s.Limits.MaxDocuments < 0 {
		return &cari.FieldError{Field: "limits.max_documents", Reason: fmt.Sprintf("must be 0 (unbounded) or more, got %d", s.Limits.MaxDocuments)}
	}
	return nil
}

// CheckUpdate refuses to change, from s to next, a setting the built
// index depends on.
func (s Settings) CheckUpdate(next Settings) error {
	if s.Embedder != next.Embedder || s.EmbedModel != next.EmbedModel {
		return &cari.FieldError{Field: "embedder", Reason: "the collection's vectors come from its model, which cannot change: create a collection with the new model (then move an alias to it), or reindex"}
	}
	return nil
}

// URL returns the URL of a document: u itself, or, when u is empty, the
// URL template filled with id ("" without a template).
func (s Settings) URL(u, id string) string {
	if u != "" || s.URLTemplate == "" {
		return u
	}
	return strings.ReplaceAll(s.URLTemplate, "{id}", url.PathEscape(id))
}
