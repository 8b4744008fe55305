package evaluation

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Query is one test query of a collection.
type Query struct {
	ID   string
	Text string
}

// LoadQueries reads a BEIR queries.jsonl file: one JSON object {"_id": ..., "text": ...} per
// line, other keys ignored, blank lines skipped. A line that is not such an object, lacks a
// string _id or text, or repeats an earlier _id is an error naming its line number.
func LoadQueries(path string) ([]Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load queries: %w", err)
	}
	defer f.Close()
	qs, err := parseQueries(f)
	if err != nil {
		return nil, fmt.Errorf("load queries %s: %w", path, err)
	}
	return qs, nil
}

// parseQueries reads queries.jsonl lines from r; see LoadQueries.
func parseQueries(r io.Reader) ([]Query, error) {
	var qs []Query
	seen := make(map[string]int)
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			q, perr := parseQuery(line)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", n, perr)
			}
			if first, dup := seen[q.ID]; dup {
				return nil, fmt.Errorf("line %d: query %q already defined on line %d", n, q.ID, first)
			}
			seen[q.ID] = n
			qs = append(qs, q)
		}
		if err != nil {
			return qs, nil
		}
	}
}

// parseQuery decodes one queries.jsonl line.
func parseQuery(line []byte) (Query, error) {
	var raw struct {
		ID   *string `json:"_id"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(line, &raw); err != nil {
		return Query{}, fmt.Errorf("decode query: %w", err)
	}
	switch {
	case raw.ID == nil:
		return Query{}, errors.New("missing _id")
	case *raw.ID == "":
		return Query{}, errors.New("empty _id")
	case raw.Text == nil:
		return Query{}, fmt.Errorf("query %q: missing text", *raw.ID)
	}
	return Query{ID: *raw.ID, Text: *raw.Text}, nil
}
