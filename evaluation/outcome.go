package evaluation

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Outcome is one evaluated run as cari eval reports it.
type Outcome struct {
	// Mode names what was run (keyword, vector, hybrid, rerank).
	Mode string
	Summary
	// Refused are the queries the system refused, each scored 0.
	Refused []Refusal
	// QueriesPerSecond is the run's throughput, all queries counted.
	QueriesPerSecond float64
}

// RefusedIDs are the ids of the refused queries, in query order.
func (r Outcome) RefusedIDs() []string {
	ids := make([]string, len(r.Refused))
	for i, q := range r.Refused {
		ids[i] = q.ID
	}
	return ids
}

// WriteText writes the figures as one line, with the refused queries'
// count and ids at its end when there are any.
func (r Outcome) WriteText(w io.Writer) error {
	refused := ""
	if len(r.Refused) > 0 {
		refused = fmt.Sprintf(" refused=%d (scored 0): %s", len(r.Refused), strings.Join(r.RefusedIDs(), " "))
	}
	_, err := fmt.Fprintf(w, "ndcg@10=%.4f recall@100=%.4f mrr@10=%.4f queries=%d%s\n", r.NDCG10, r.Recall100, r.MRR10, r.Queries, refused)
	return err
}

// WriteJSON writes the figures as one JSON object; refused_queries is
// there only when a query was refused.
func (r Outcome) WriteJSON(w io.Writer) error {
	figures := map[string]any{
		"mode": r.Mode, "ndcg@10": r.NDCG10, "recall@100": r.Recall100, "mrr@10": r.MRR10,
		"queries": r.Queries, "queries_in_run": r.QueriesInRun, "queries_per_second": r.QueriesPerSecond,
	}
	if len(r.Refused) > 0 {
		figures["refused_queries"] = r.RefusedIDs()
	}
	return json.NewEncoder(w).Encode(figures)
}
