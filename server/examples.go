package server

import (
	"cmp"
	"context"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer/reindex"
)

// Example queries: how many GetStats offers, and how they are cut.
const (
	numExampleQueries = 4
	// exampleCandidates is how many documents are read to find them: some
	// have neither a title nor text that makes a query.
	exampleCandidates = 4 * numExampleQueries
	maxExampleWords   = 8
	maxExampleRunes   = 60
	minExampleRunes   = 3
	// exampleBudget is how long GetStats waits for the choice; a larger
	// index (listing its IDs on Qdrant is a scroll over every point) goes
	// on being read in the background and a later call gets the result.
	exampleBudget = 2 * time.Second
	// exampleTimeout bounds that background read.
	exampleTimeout = 2 * time.Minute
)

// exampleQueries chooses, once per generation, a few queries drawn from the
// serving generation's documents for GetStats. The choice depends only on
// the generation's name and its documents' IDs, so every replica and every
// call offers the same queries; it is made again when the generation
// changes, or when one that had too few documents has gained some.
type exampleQueries struct {
	// stored lists and loads documents; nil offers no examples.
	stored reindex.Stored
	log    *slog.Logger
	budget time.Duration

	mu         sync.Mutex
	generation string
	documents  int64 // the generation's documents when the choice started
	ready      chan struct{}
	queries    []string
}

// newExampleQueries draws examples from s when the store can list its
// documents (both stores can: a reindex reads them the same way).
func newExampleQueries(s IndexStore, log *slog.Logger) *exampleQueries {
	stored, _ := s.(reindex.Stored)
	return &exampleQueries{stored: stored, log: log, budget: exampleBudget}
}

// get returns the examples of generation, which holds documents
// documents; nil while they are being chosen past the budget, or when the
// store cannot list documents.
func (e *exampleQueries) get(ctx context.Context, generation string, documents int64) []string {
	if e.stored == nil || generation == "" || documents == 0 {
		return nil
	}
	e.mu.Lock()
	if e.stale(generation, documents) {
		e.generation, e.documents, e.queries = generation, documents, nil
		e.ready = make(chan struct{})
		go e.choose(generation, e.ready)
	}
	ready := e.ready
	e.mu.Unlock()
	t := time.NewTimer(e.budget)
	defer t.Stop()
	select {
	case <-ready:
	case <-t.C:
		return nil
	case <-ctx.Done():
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ready != ready {
		return nil // a newer choice started meanwhile
	}
	return slices.Clone(e.queries)
}

// stale reports whether the examples must be chosen again; e.mu is held.
func (e *exampleQueries) stale(generation string, documents int64) bool {
	if e.ready == nil || e.generation != generation {
		return true
	}
	select {
	case <-e.ready:
		return len(e.queries) < numExampleQueries && documents != e.documents
	default:
		return false // still choosing
	}
}

// choose reads the candidates and publishes the queries it makes of them,
// unless a newer choice has started.
func (e *exampleQueries) choose(generation string, ready chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), exampleTimeout)
	defer cancel()
	queries, err := e.read(ctx, generation)
	if err != nil {
		e.log.Warn("choosing example queries", "generation", generation, "error", err)
	}
	e.mu.Lock()
	if e.ready == ready {
		e.queries = queries
	}
	e.mu.Unlock()
	close(ready)
}

func (e *exampleQueries) read(ctx context.Context, generation string) ([]string, error) {
	ids, err := e.stored.DocumentIDs(ctx)
	if err != nil {
		return nil, err
	}
	ids = exampleIDs(generation, ids, exampleCandidates)
	docs, err := e.stored.Documents(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		if d, ok := docs[id]; ok && len(out) < numExampleQueries {
			if q := exampleQuery(d); q != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, q) }) {
				out = append(out, q)
			}
		}
	}
	return out, nil
}

// exampleIDs picks n of ids, the same for the same generation and IDs in
// any order, and different from one generation to the next: those whose
// hash with the generation's name is least.
func exampleIDs(generation string, ids []string, n int) []string {
	type ranked struct {
		id   string
		rank uint64
	}
	rs := make([]ranked, len(ids))
	for i, id := range ids {
		h := fnv.New64a()
		h.Write([]byte(generation))
		h.Write([]byte{0})
		h.Write([]byte(id))
		rs[i] = ranked{id, h.Sum64()}
	}
	slices.SortFunc(rs, func(a, b ranked) int { return cmp.Or(cmp.Compare(a.rank, b.rank), strings.Compare(a.id, b.id)) })
	out := make([]string, 0, min(n, len(rs)))
	for _, r := range rs[:min(n, len(rs))] {
		out = append(out, r.id)
	}
	return out
}

// exampleQuery makes a query of a document: its title, or else its text's
// first sentence, cut to a few words at a word boundary, without a dangling
// short word ("of", "the") or punctuation at either end. "" when what is
// left is too short to search for.
func exampleQuery(d cari.Document) string {
	s := d.Title
	if strings.TrimSpace(s) == "" {
		s = firstSentence(d.Text)
	}
	words := strings.Fields(s)
	cut := false
	if len(words) > maxExampleWords {
		words, cut = words[:maxExampleWords], true
	}
	for len(words) > 1 && len([]rune(strings.Join(words, " "))) > maxExampleRunes {
		words, cut = words[:len(words)-1], true
	}
	for cut && len(words) > 2 && len([]rune(trimPunct(words[len(words)-1]))) <= 3 {
		words = words[:len(words)-1]
	}
	q := trimPunct(strings.Join(words, " "))
	if r := []rune(q); len(r) > maxExampleRunes {
		// One long word, or text without spaces (Chinese, Japanese).
		q = trimPunct(string(r[:maxExampleRunes]))
	}
	if len([]rune(q)) < minExampleRunes {
		return ""
	}
	return q
}

// firstSentence is text up to its first sentence end, or all of it.
func firstSentence(text string) string {
	if i := strings.IndexAny(text, ".!?。！？\n"); i >= 0 {
		return text[:i]
	}
	return text
}

func trimPunct(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r) })
}
