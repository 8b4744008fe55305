package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Listing is what cari collections list prints: the collections and the
// aliases.
type Listing struct {
	Collections []Collection `json:"collections"`
	Aliases     []Alias      `json:"aliases"`
}

// Listing returns the catalog's collections and aliases, ordered by name.
func (c *Catalog) Listing() Listing { return Listing{Collections: c.List(), Aliases: c.Aliases()} }

// WriteJSON writes l as one JSON object.
func (l Listing) WriteJSON(w io.Writer) error { return json.NewEncoder(w).Encode(l) }

// WriteText writes l as a table: each collection with its aliases and the
// settings it sets (a dash where it follows the process's defaults).
func (l Listing) WriteText(w io.Writer) error {
	aliases := map[string][]string{}
	for _, a := range l.Aliases {
		aliases[a.Collection] = append(aliases[a.Collection], a.Name)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTION\tALIASES\tEMBEDDER\tRERANKER\tLANGUAGE\tCREATED")
	for _, c := range l.Collections {
		s := c.Settings
		model := s.Embedder
		if s.EmbedModel != "" {
			model += "/" + s.EmbedModel
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, dash(strings.Join(aliases[c.Name], ",")), dash(model), dash(s.Reranker), dash(s.Language), c.Created.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
