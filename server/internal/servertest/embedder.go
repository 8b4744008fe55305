package servertest

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"unicode"

	"github.com/cari-search/cari/store"
)

// EmbedderSpace is the vector space of Embedder.
var EmbedderSpace = store.VectorSpace{Model: "servertest/hashed-words", Dim: 256}

// Embedder is a tiny embedding model that lives in the repository, so that
// the server's tests run real neural and hybrid searches without model
// files: a text's vector counts its lower-cased words, each hashed (FNV-1a)
// to one of EmbedderSpace.Dim dimensions, normalised to length 1. Texts
// that share words lie near each other; nothing more is meant.
type Embedder struct{}

// EmbedQuery embeds one text.
func (Embedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	v := make([]float32, EmbedderSpace.Dim)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		h := fnv.New32a()
		h.Write([]byte(w))
		v[h.Sum32()%uint32(len(v))]++
	}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		v[0], norm = 1, 1 // a text without words still has a direction
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(norm))
	}
	return v, nil
}

// EmbedDocuments embeds each text as EmbedQuery does.
func (e Embedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i], _ = e.EmbedQuery(ctx, t)
	}
	return out, nil
}
