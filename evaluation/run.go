package evaluation

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Result is one retrieved document and the score the system gave it.
type Result struct {
	DocID string
	Score float64
}

// Ranking is the list of documents retrieved for one query, in the order they were added.
// The order is not the one scored: see Ranked.
type Ranking []Result

// Add appends a retrieved document, so a searcher can build a ranking hit by hit.
func (r *Ranking) Add(docID string, score float64) {
	*r = append(*r, Result{DocID: docID, Score: score})
}

// Ranked returns the document ids in the order trec_eval scores them: by score descending,
// equal scores by document id descending (byte order), each document once, at the position
// of its highest score. The ranks written in a run file play no part. A NaN score ranks
// below every other score.
func (r Ranking) Ranked() []string {
	results := r.results()
	ids := make([]string, len(results))
	for i, res := range results {
		ids[i] = res.DocID
	}
	return ids
}

// results returns the results in scoring order with duplicate documents dropped.
func (r Ranking) results() []Result {
	sorted := slices.Clone(r)
	slices.SortStableFunc(sorted, func(a, b Result) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(b.DocID, a.DocID)
	})
	seen := make(map[string]bool, len(sorted))
	out := sorted[:0]
	for _, res := range sorted {
		if !seen[res.DocID] {
			seen[res.DocID] = true
			out = append(out, res)
		}
	}
	return out
}

// Run holds the rankings of a system for a set of queries, keyed by query id. A query with an
// empty ranking counts as absent from the run, as it would be in a run file.
type Run map[string]Ranking

// Add appends a retrieved document to the ranking of queryID.
func (run Run) Add(queryID, docID string, score float64) {
	r := run[queryID]
	r.Add(docID, score)
	run[queryID] = r
}

// ReadRun reads a TREC run file: "qid Q0 docid rank score tag" per line, separated by tabs or
// spaces. As in score_run.py, lines with fewer than six fields are skipped and the Q0, rank
// and tag columns are ignored. A score that is not a number, or is NaN, is an error.
func ReadRun(r io.Reader) (Run, error) {
	run := make(Run)
	sc := newLineScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := fields(sc.Text())
		if len(f) < 6 {
			continue
		}
		score, err := parseScore(f[4])
		if err != nil {
			return nil, fmt.Errorf("read run: line %d: %w", n, err)
		}
		run.Add(f[0], f[2], score)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	return run, nil
}

// parseScore parses a run score as Python's float() does, where the two agree: a value too
// large for float64 becomes an infinity rather than an error.
func parseScore(s string) (float64, error) {
	score, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("score %q is not a number", s)
	}
	if math.IsNaN(score) {
		return 0, fmt.Errorf("score %q is NaN, which has no rank order", s)
	}
	return score, nil
}

// WriteRun writes run in TREC run format, queries sorted by id and each ranking in the order
// it is scored (see Ranking.Ranked), so the rank column is the rank evaluated. Scores are
// written in the shortest form that reads back to the same float64. tag names the system.
// Ids and tag must be non-empty and free of whitespace, and scores must not be NaN, or the
// file would not read back as written.
func WriteRun(w io.Writer, run Run, tag string) error {
	if err := checkToken("tag", tag); err != nil {
		return fmt.Errorf("write run: %w", err)
	}
	bw := bufio.NewWriter(w)
	for _, qid := range slices.Sorted(maps.Keys(run)) {
		if err := writeRanking(bw, qid, run[qid], tag); err != nil {
			return fmt.Errorf("write run: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write run: %w", err)
	}
	return nil
}

// writeRanking writes the lines of one query.
func writeRanking(w *bufio.Writer, qid string, r Ranking, tag string) error {
	if err := checkToken("query id", qid); err != nil {
		return err
	}
	for i, res := range r.results() {
		if err := checkToken("doc id", res.DocID); err != nil {
			return fmt.Errorf("query %s: %w", qid, err)
		}
		if math.IsNaN(res.Score) {
			return fmt.Errorf("query %s: doc %s: score is NaN", qid, res.DocID)
		}
		score := strconv.FormatFloat(res.Score, 'g', -1, 64)
		if _, err := fmt.Fprintf(w, "%s Q0 %s %d %s %s\n", qid, res.DocID, i+1, score, tag); err != nil {
			return err
		}
	}
	return nil
}

// checkToken reports an error if s cannot stand as one whitespace-separated field.
func checkToken(what, s string) error {
	if f := fields(s); len(f) != 1 || f[0] != s {
		return fmt.Errorf("%s %q is empty or contains whitespace", what, s)
	}
	return nil
}
