package storetest

import (
	"strings"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// Dim is the dimension of the vectors the suite writes; a store under test
// must be opened for vectors of this dimension.
const Dim = 4

// Model names the suite's vector space, for stores that record one.
const Model = "storetest/4"

// doc is one document of the suite's corpus: its passages become the text
// (joined by spaces) and the chunks, one vector per passage.
type doc struct {
	id, title, domain, lang string
	category                string // "" for none
	published, crawled      string // dates, "" for none
	passages                []string
	vectors                 [][]float32
}

func day(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func (d doc) entry() store.Entry {
	text := strings.Join(d.passages, " ")
	var chunks []cari.Chunk
	start := 0
	for i, p := range d.passages {
		chunks = append(chunks, cari.Chunk{Ordinal: i, Start: start, End: start + len(p)})
		start += len(p) + 1
	}
	doc := cari.Document{
		ID:          d.id,
		URL:         "https://" + d.domain + "/" + d.id,
		Title:       d.title,
		Text:        text,
		Author:      "Author " + strings.ToUpper(d.id),
		Published:   day(d.published),
		Crawled:     day(d.crawled),
		Language:    d.lang,
		Domain:      d.domain,
		ContentHash: cari.ContentHash(text),
		Category:    d.category,
	}
	return store.Entry{Doc: doc, Chunks: chunks, Vectors: d.vectors}
}

// corpus is small enough to reason about by hand: which document contains
// which word, on which domain, in which language and category, with which
// dates.
var corpus = []doc{
	{id: "a", title: "Zebra migration", domain: "savanna.example.org", lang: "en", category: "research paper",
		published: "2020-03-01", crawled: "2024-01-01",
		passages: []string{"Zebra herds cross the meadow.", "Lions follow the zebra herds."},
		vectors:  [][]float32{{1, 0, 0, 0}, {0, 1, 0, 0}}},
	{id: "b", title: "Quartz clocks", domain: "docs.clocks.example.com", lang: "en-GB", category: "company",
		published: "2021-06-15", crawled: "2024-02-01",
		passages: []string{"A quartz crystal keeps time.", "Quartz clocks rarely drift."},
		vectors:  [][]float32{{0, 0, 1, 0}, {0, 0, 0.8, 0.6}}},
	{id: "c", title: "Falcon flight", domain: "birds.example.net", lang: "de",
		crawled:  "2024-03-01",
		passages: []string{"The falcon dives at great speed over the meadow."},
		vectors:  [][]float32{{0, 0, 0, 1}}},
	{id: "d", title: "Copper wiring", domain: "clocks.example.com", lang: "en-AU", category: "news",
		published: "2019-01-01", crawled: "2023-12-01",
		passages: []string{"Copper conducts electricity.", "Zebra stripes are unrelated to copper."},
		vectors:  [][]float32{{0.6, 0.8, 0, 0}, {0.5, 0.5, 0.5, 0.5}}},
	{id: "e", title: "Lantern festival", domain: "example.com", lang: "en-US",
		published: "2022-09-09", crawled: "2024-04-01",
		passages: []string{"Paper lanterns light the night meadow sky."},
		vectors:  [][]float32{{0.9, 0.1, 0, 0}}},
}

func corpusEntries() []store.Entry {
	out := make([]store.Entry, len(corpus))
	for i, d := range corpus {
		out[i] = d.entry()
	}
	return out
}

// englishEntries is the corpus with every document in English: stores may
// analyse each language in its own field with its own BM25 statistics, so
// the tests that check scores against BM25 computed here keep to one.
func englishEntries() []store.Entry {
	out := corpusEntries()
	for i := range out {
		out[i].Doc.Language = "en"
	}
	return out
}

func corpusChunks() int64 {
	var n int64
	for _, d := range corpus {
		n += int64(len(d.passages))
	}
	return n
}
