package category_test

import (
	"bufio"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/analysis/category"
)

// tally counts the documents of one label and how many were classified right.
type tally struct{ n, right int }

// scorecard is one half of a labelled sample: accuracy per label and
// overall, and which label went to which wrong category.
type scorecard struct {
	per        map[string]*tally
	all        tally
	confusions map[string]int
}

func newScorecard() *scorecard {
	return &scorecard{per: map[string]*tally{}, confusions: map[string]int{}}
}

// add scores the category got for a document labelled label ("none": no
// category); also are other labels a labeller accepts (a paper served as
// a PDF is both). It reports whether got was right.
func (s *scorecard) add(label, got string, also ...string) bool {
	want := label
	if want == "none" {
		want = ""
	}
	if s.per[label] == nil {
		s.per[label] = &tally{}
	}
	s.per[label].n++
	s.all.n++
	if got == want || (got != "" && slices.Contains(also, got)) {
		s.per[label].right++
		s.all.right++
		return true
	}
	s.confusions[label+" -> "+got]++
	return false
}

// log writes the per-label and overall figures and returns the accuracy.
func (s *scorecard) log(t *testing.T, name string) float64 {
	labels := make([]string, 0, len(s.per))
	for l := range s.per {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		t.Logf("%s: %-16q %3d/%3d", name, l, s.per[l].right, s.per[l].n)
	}
	acc := float64(s.all.right) / float64(s.all.n)
	t.Logf("%s: accuracy %.3f (%d/%d); confusions (label -> got) %v", name, acc, s.all.right, s.all.n, s.confusions)
	return acc
}

// sampleLines reads a labelled sample: the tab-separated fields (source,
// document, label, and any more) of each line but blanks and # comments,
// split into the tune half (the odd lines) and the test half (the even).
func sampleLines(t *testing.T, path string) [2][][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var halves [2][][]string
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan(); {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) < 3 {
			t.Fatalf("%s: %q has %d fields, want source, document, label", path, line, len(parts))
		}
		halves[n%2] = append(halves[n%2], parts)
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return halves
}

// urlAccuracy is the accuracy docs/EXA.md reports for the test half of the
// URL sample, set below the measured 0.879; the test fails if the
// classifier falls below it.
const urlAccuracy = 0.85

// TestCategoryAccuracyURLs classifies the URL sample (testdata/urls.tsv:
// real URLs from a Debian machine's package index, the Python
// documentation's external links and /usr/share/doc, chosen by a fixed
// stride and labelled by hand, see testdata/README.md) as the indexer would a document that has
// only its URL: category.Of with no title or text, so only the URL rules
// speak. The sample's odd lines are the tune half, its even lines the test
// half whose figure is reported. It reads one small file, so it runs under
// -short.
func TestCategoryAccuracyURLs(t *testing.T) {
	halves := [2]*scorecard{newScorecard(), newScorecard()} // tune, test
	for i, lines := range sampleLines(t, "testdata/urls.tsv") {
		for _, parts := range lines {
			u, label, also := parts[1], parts[2], parts[3:]
			if _, ok := category.Parse(label); !ok && label != "none" {
				t.Fatalf("testdata/urls.tsv: %s has label %q, not a category or none", u, label)
			}
			if got := category.Of(cari.Document{URL: u}); !halves[i].add(label, got, also...) {
				t.Logf("%s miss: %s %q -> %q", [2]string{"tune", "test"}[i], u, label, got)
			}
		}
	}
	var acc float64
	for i, name := range []string{"tune", "test"} {
		acc = halves[i].log(t, name)
	}
	if acc < urlAccuracy {
		t.Errorf("accuracy %.3f, below the %.2f docs/EXA.md reports", acc, urlAccuracy)
	}
}
