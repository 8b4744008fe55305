package searcher

import (
	"strings"
	"testing"

	"github.com/cari-search/cari/analysis"
)

func newLanguageHighlighter(t *testing.T) highlighter {
	t.Helper()
	c, err := analysis.NewChunker(analysis.ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return makeHighlighter(newLocal(t), c)
}

// TestHighlightsCJK: a Chinese or Japanese text is split at its full-width
// marks, the best sentence is the one holding the query's word, and a
// highlight is whole sentences, never a cut inside one.
func TestHighlightsCJK(t *testing.T) {
	h := newLanguageHighlighter(t)
	for _, tc := range []struct {
		language, text, query, want string
	}{
		{"zh", "上海是中国最大的城市之一。北京大学位于北京市海淀区，是一所著名的大学！这座城市有很长的历史。",
			"北京大学", "北京大学位于北京市海淀区，是一所著名的大学！"},
		{"ja", "東京は日本の首都です。「本当ですか？」と彼は聞いた。京都には古いお寺がたくさんあります。",
			"京都のお寺", "京都には古いお寺がたくさんあります。"},
		// The language is detected when the document has none.
		{"", "上海是中国最大的城市之一。北京大学位于北京市海淀区，是一所著名的大学！这座城市有很长的历史。",
			"海淀区在哪里", "北京大学位于北京市海淀区，是一所著名的大学！"},
	} {
		got := h.highlightsIn(tc.text, tc.language, tc.query, Highlights{NumSentences: 1})
		if len(got) != 1 || got[0].Text != tc.want {
			t.Errorf("%s %q: got %+v, want %q", tc.language, tc.query, got, tc.want)
		}
	}
}

// TestHighlightsIndonesian: the query and the sentences are analysed as
// Indonesian (stop words out, words stemmed), and abbreviations do not end
// a sentence.
func TestHighlightsIndonesian(t *testing.T) {
	h := newLanguageHighlighter(t)
	text := "Kota itu punya banyak taman, sungai, dll. yang indah. Pembangunan jembatan baru dimulai oleh pemerintah daerah tahun lalu. Warga senang."
	got := h.highlightsIn(text, "id", "siapa yang membangun jembatan", Highlights{NumSentences: 1})
	if len(got) != 1 || got[0].Text != "Pembangunan jembatan baru dimulai oleh pemerintah daerah tahun lalu." {
		t.Errorf("got %+v", got)
	}
	got = h.highlightsIn(text, "id", "taman yang indah", Highlights{NumSentences: 1})
	if len(got) != 1 || !strings.HasPrefix(got[0].Text, "Kota itu") || !strings.HasSuffix(got[0].Text, "yang indah.") {
		t.Errorf("a sentence with dll. inside: got %+v", got)
	}
}
