package analysis

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func sentenceTexts(t *testing.T, text string) []string {
	t.Helper()
	c, err := NewChunker(ChunkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range c.Sentences(text) {
		out = append(out, text[s.Start:s.End])
	}
	return out
}

func TestSentencesCJKAndIndonesian(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string
	}{
		{"Chinese full-width ends", "北京是中国的首都。上海是最大的城市！你去过吗？我去过。",
			[]string{"北京是中国的首都。", "上海是最大的城市！", "你去过吗？", "我去过。"}},
		{"Japanese, a quoted question inside a sentence", "東京は日本の首都です。「本当ですか？」と彼は聞いた。はい、そうです。",
			[]string{"東京は日本の首都です。", "「本当ですか？」と彼は聞いた。", "はい、そうです。"}},
		{"Chinese, a quotation inside a sentence", "他说：“我明天去。”然后他走了。",
			[]string{"他说：“我明天去。”然后他走了。"}},
		{"repeated marks stay together", "真的吗？！太好了。",
			[]string{"真的吗？！", "太好了。"}},
		{"Indonesian abbreviations", "Ia membeli buku, pensil, dll. di toko itu. Kantornya di Jl. Sudirman No. 5 Jakarta. Harganya Rp. 5.000 saja.",
			[]string{"Ia membeli buku, pensil, dll. di toko itu.", "Kantornya di Jl. Sudirman No. 5 Jakarta.", "Harganya Rp. 5.000 saja."}},
		{"English unchanged", "Dr. Smith arrived. He met e.g. the team. It rained!",
			[]string{"Dr. Smith arrived.", "He met e.g. the team.", "It rained!"}},
	} {
		if got := sentenceTexts(t, tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestLongCJKSentenceIsCutAtAClause: a sentence without spaces that is too
// long for one passage is cut after a comma, never inside a character.
func TestLongCJKSentenceIsCutAtAClause(t *testing.T) {
	c, err := NewChunker(ChunkOptions{MaxChars: 40, OverlapChars: -1})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("北京大学位于海淀区，", 6) + "是一所大学。"
	chunks := c.Chunk(text)
	if len(chunks) < 2 {
		t.Fatalf("a %d-byte sentence with MaxChars 40 gave %d passages", len(text), len(chunks))
	}
	for _, ch := range chunks {
		p := text[ch.Start:ch.End]
		if !utf8.ValidString(p) {
			t.Errorf("passage %d cuts a character: %q", ch.Ordinal, p)
		}
		if ch.End < len(text) && !strings.HasSuffix(p, "，") {
			t.Errorf("passage %d = %q does not end after a comma", ch.Ordinal, p)
		}
	}
	// Without any clause break, the cut falls on a character boundary.
	text = strings.Repeat("北京大学", 20)
	for _, ch := range c.Chunk(text) {
		if p := text[ch.Start:ch.End]; !utf8.ValidString(p) || len(p) > 40 {
			t.Errorf("passage %d = %q: invalid UTF-8 or longer than 40 bytes", ch.Ordinal, p)
		}
	}
}
