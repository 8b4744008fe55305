package searcher

import (
	"context"
	"math"
	"strings"
	"testing"
	"unicode"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/store"
	"github.com/cari-search/cari/store/local"
)

// conceptEmbedder is a test double for a multilingual embedding model
// (Qwen3-Embedding, multilingual-e5, BGE-M3): it maps words of English,
// Indonesian and Chinese through a small bilingual lexicon to shared
// concepts and embeds a text as its normalised bag of concepts, so that a
// text and its translation lie close together. It stands in for what such a
// model learns; it says nothing about how well a real one aligns languages.
type conceptEmbedder struct{}

var concepts = map[string]int{
	"rice": 0, "beras": 0, "大米": 0, "米": 0,
	"price": 1, "prices": 1, "harga": 1, "价格": 1,
	"rise": 2, "rising": 2, "naik": 2, "上涨": 2,
	"flood": 3, "floods": 3, "banjir": 3, "洪水": 3,
	"city": 4, "kota": 4, "城市": 4,
	"volcano": 5, "gunung": 5, "berapi": 5, "火山": 5,
	"erupt": 6, "erupts": 6, "meletus": 6, "喷发": 6,
	"school": 7, "sekolah": 7, "学校": 7,
}

const conceptDim = 8

func (conceptEmbedder) embed(text string) []float32 {
	v := make([]float32, conceptDim)
	lower := strings.ToLower(text)
	for _, w := range strings.FieldsFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if c, ok := concepts[w]; ok {
			v[c]++
		}
	}
	// Chinese has no spaces: look the lexicon's Chinese words up in place.
	for w, c := range concepts {
		if w[0] >= 0x80 {
			v[c] += float32(strings.Count(lower, w))
		}
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	if n > 0 {
		for i := range v {
			v[i] /= float32(math.Sqrt(n))
		}
	}
	return v
}

func (e conceptEmbedder) EmbedQuery(_ context.Context, text string) ([]float32, error) {
	return e.embed(text), nil
}

func (e conceptEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = e.embed(t)
	}
	return out, nil
}

// TestCrossLingualVectorSearch: with a multilingual embedder, a query in one
// language finds the document written in another on the vector side, where
// the keyword side (which matches words) finds nothing.
func TestCrossLingualVectorSearch(t *testing.T) {
	s, err := local.Open(t.TempDir(), local.Options{Vectors: store.VectorSpace{Model: "test/concepts", Dim: conceptDim}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ix, err := indexer.New(s, indexer.Options{Embedder: conceptEmbedder{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, d := range []cari.Document{
		{ID: "id-rice", Text: "Harga beras di pasar tradisional terus naik sejak bulan lalu."},
		{ID: "zh-flood", Text: "这个城市昨天发生了严重的洪水。"},
		{ID: "en-volcano", Text: "The volcano erupts again, and the school near it is closed."},
	} {
		if err := ix.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sr := New(s, Options{Embedder: conceptEmbedder{}, Model: "test/concepts"})
	for _, tc := range []struct{ query, want string }{
		{"why are rice prices rising", "id-rice"},             // English -> Indonesian
		{"floods in the city", "zh-flood"},                    // English -> Chinese
		{"gunung berapi meletus dekat sekolah", "en-volcano"}, // Indonesian -> English
	} {
		kw, err := sr.Search(ctx, Query{Text: tc.query, Type: TypeKeyword, NumResults: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range kw.Results {
			if r.Document.ID == tc.want {
				t.Errorf("%q: the keyword side found %s, so this case does not show crossing languages", tc.query, tc.want)
			}
		}
		vec, err := sr.Search(ctx, Query{Text: tc.query, Type: TypeNeural, NumResults: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(vec.Results) == 0 || vec.Results[0].Document.ID != tc.want {
			var got []string
			for _, r := range vec.Results {
				got = append(got, r.Document.ID)
			}
			t.Errorf("%q: vector search ranked %v, want %s first", tc.query, got, tc.want)
		}
	}
}
