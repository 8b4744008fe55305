package evaluation

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Qrels holds the relevance judgments of a test collection: for each query, the gain of every
// judged document. It remembers the order in which queries first appear so that averages are
// summed in the same order as score_run.py and match it to the last bit. The zero value is
// empty and ready to use.
type Qrels struct {
	order []string
	gains map[string]map[string]int
}

// Add records the judgment of docID for queryID, replacing an earlier one for the same pair
// (as a later qrels line does).
func (q *Qrels) Add(queryID, docID string, gain int) {
	if q.gains == nil {
		q.gains = make(map[string]map[string]int)
	}
	docs, ok := q.gains[queryID]
	if !ok {
		docs = make(map[string]int)
		q.gains[queryID] = docs
		q.order = append(q.order, queryID)
	}
	docs[docID] = gain
}

// Gains returns the judgments of queryID, keyed by document id, or nil when the query has
// none. The map belongs to q and must not be modified.
func (q *Qrels) Gains(queryID string) map[string]int {
	return q.gains[queryID]
}

// QueryIDs returns the judged queries in the order they first appear.
func (q *Qrels) QueryIDs() []string {
	return append([]string(nil), q.order...)
}

// Len returns the number of judged queries, including those with no relevant document.
func (q *Qrels) Len() int {
	return len(q.order)
}

// LoadQrels reads a qrels file: "query-id corpus-id score" per line, separated by tabs or
// spaces, with an optional header line. Lines with fewer than three fields are skipped, as
// score_run.py skips them. The first line is a header when its third field is not an integer;
// any later line whose score is not an integer is an error. With binary set, every gain
// >= 1 becomes 1 and every other gain 0.
func LoadQrels(path string, binary bool) (Qrels, error) {
	f, err := os.Open(path)
	if err != nil {
		return Qrels{}, fmt.Errorf("load qrels: %w", err)
	}
	defer f.Close()
	q, err := parseQrels(f, binary)
	if err != nil {
		return Qrels{}, fmt.Errorf("load qrels %s: %w", path, err)
	}
	return q, nil
}

// parseQrels reads qrels lines from r; see LoadQrels.
func parseQrels(r io.Reader, binary bool) (Qrels, error) {
	var q Qrels
	sc := newLineScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		if n == 1 && !looksLikeScore(f[2]) {
			continue
		}
		gain, err := strconv.Atoi(f[2])
		if err != nil {
			return Qrels{}, fmt.Errorf("line %d: score %q is not an integer", n, f[2])
		}
		if binary {
			gain = binaryGain(gain)
		}
		q.Add(f[0], f[1], gain)
	}
	if err := sc.Err(); err != nil {
		return Qrels{}, fmt.Errorf("read: %w", err)
	}
	return q, nil
}

// looksLikeScore reports whether s, the third field of a first line, looks like a judgment
// rather than a header: score_run.py's p[2].lstrip("-").isdigit().
func looksLikeScore(s string) bool {
	digits := strings.TrimLeft(s, "-")
	if digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// binaryGain maps a graded gain to 1 when it counts as relevant and to 0 otherwise.
func binaryGain(gain int) int {
	if gain >= RelevantGain {
		return 1
	}
	return 0
}

// LoadLabelled reads a labelled collection's queries (LoadQueries) and
// their judgments (LoadQrels), as cari eval and train-reranker take them.
func LoadLabelled(queriesPath, qrelsPath string, binary bool) ([]Query, Qrels, error) {
	queries, err := LoadQueries(queriesPath)
	if err != nil {
		return nil, Qrels{}, err
	}
	qrels, err := LoadQrels(qrelsPath, binary)
	return queries, qrels, err
}
