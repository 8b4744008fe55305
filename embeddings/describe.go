package embeddings

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteModelTable writes the models found in dir as cari models list
// prints them: a row each, or, with none, how to fetch the default.
func WriteModelTable(w io.Writer, dir string, entries []ModelEntry) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintf(w, "no models in %s; run \"make models\" to fetch and import the default\n", dir)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPROVIDER\tFORMAT\tSIZE\tPATH")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f MiB\t%s\n", e.Name, e.Provider, e.Format, float64(e.Bytes)/(1<<20), e.Path)
	}
	return tw.Flush()
}

// Description is what an index records about a provider's model, with
// the prompts it puts before queries and documents: what cari models
// info prints. The fields are in the order of their JSON names, as the
// command has always printed them.
type Description struct {
	Dim            int    `json:"dim"`
	DocumentPrompt string `json:"document_prompt"`
	ID             string `json:"id"`
	Name           string `json:"name"`
	Provider       string `json:"provider"`
	QueryPrompt    string `json:"query_prompt"`
	Version        string `json:"version"`
}

// Describe describes p's model.
func (p *Provider) Describe() Description {
	m, pr := p.Model(), p.Prompts()
	return Description{ID: m.ID(), Provider: m.Provider, Name: m.Name, Version: m.Version, Dim: m.Dim, QueryPrompt: pr.Query, DocumentPrompt: pr.Document}
}

// WriteText writes d as a table of two columns.
func (d Description) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\nprovider\t%s\nname\t%s\nversion\t%s\ndimensions\t%d\nquery prompt\t%q\ndocument prompt\t%q\n",
		d.ID, d.Provider, d.Name, d.Version, d.Dim, d.QueryPrompt, d.DocumentPrompt)
	return tw.Flush()
}

// WriteJSON writes d as one JSON object.
func (d Description) WriteJSON(w io.Writer) error { return json.NewEncoder(w).Encode(d) }
