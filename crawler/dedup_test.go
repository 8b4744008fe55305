package crawler

import (
	"math/bits"
	"strings"
	"testing"

	"github.com/cari-search/cari/internal/texttest"
)

func TestSimHash(t *testing.T) {
	base := texttest.Words(1, 400)
	a, ok := SimHash(base)
	if !ok {
		t.Fatal("400 words: no fingerprint")
	}
	b, _ := SimHash(strings.Replace(base, "river", "brook", 3))
	c, _ := SimHash(texttest.Words(2, 400))
	if d := bits.OnesCount64(a ^ b); d > nearDupBits {
		t.Errorf("three words changed in 400: %d bits apart, want at most %d", d, nearDupBits)
	}
	if d := bits.OnesCount64(a ^ c); d <= nearDupBits {
		t.Errorf("unrelated texts: %d bits apart, want more than %d", d, nearDupBits)
	}
	if _, ok := SimHash("too short to fingerprint"); ok {
		t.Error("a short text got a fingerprint")
	}
}

func TestSimIndex(t *testing.T) {
	s := newSimIndex()
	fp := uint64(0xdead_beef_0123_4567)
	s.add(fp, "a")
	if got := s.near(fp^0b1011_0111, "b"); got != "a" { // 6 bits apart, one block differs
		t.Errorf("near 6 bits: %q, want a", got)
	}
	seven := uint64(1 | 1<<8 | 1<<16 | 1<<24 | 1<<32 | 1<<40 | 1<<48) // 7 bits in 7 blocks
	if got := s.near(fp^seven, "b"); got != "a" {
		t.Errorf("near 7 bits in seven blocks: %q, want a", got)
	}
	if got := s.near(fp^(seven|1<<56), "b"); got != "" {
		t.Errorf("8 bits apart: %q, want none", got)
	}
	if got := s.near(fp, "a"); got != "" {
		t.Errorf("a URL is its own near duplicate: %q", got)
	}
	s.remove(fp, "a")
	if got := s.near(fp, "b"); got != "" {
		t.Errorf("after remove: %q", got)
	}
}

func BenchmarkSimHash(b *testing.B) {
	text := texttest.Words(1, 20000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		SimHash(text)
	}
}
