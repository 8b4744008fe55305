package local

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteText writes the report for a reader: a line of counts, a line per
// problem, and "ok" when there is none.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "generation %s: %d documents, %d passages; vectors for %d documents, %d passages; %d keyword segments checked\n",
		r.Generation, r.Documents, r.Passages, r.VectorDocuments, r.VectorPassages, r.Segments)
	for _, p := range r.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	if r.OK() {
		fmt.Fprintln(w, "ok")
	}
}

// WriteJSON writes the report as indented JSON, Problems a list even when
// empty, so that a script can count them.
func (r Report) WriteJSON(w io.Writer) error {
	if r.Problems == nil {
		r.Problems = []Problem{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
