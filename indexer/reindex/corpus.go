package reindex

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer/corpus"
)

// corpusSource reads a BEIR-layout corpus.jsonl (plain or gzip).
type corpusSource struct {
	path  string
	r     *corpus.Reader
	total int64
}

// OpenCorpus opens a corpus in BEIR's corpus.jsonl form, plain or gzipped.
// It reads the file once to count its records. A malformed line is a
// failed record ("invalid") that names its line.
func OpenCorpus(path string) (Source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	total, err := countCorpus(abs)
	if err != nil {
		return nil, err
	}
	r, err := corpus.Open(abs)
	if err != nil {
		return nil, err
	}
	return &corpusSource{path: abs, r: r, total: total}, nil
}

func countCorpus(path string) (int64, error) {
	r, err := corpus.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var n int64
	for {
		_, err := r.Next()
		var lineErr *corpus.LineError
		switch {
		case errors.Is(err, io.EOF):
			return n, nil
		case err == nil || errors.As(err, &lineErr):
			n++
		default:
			return 0, err
		}
	}
}

func (s *corpusSource) Describe() string { return "corpus:" + s.path }
func (s *corpusSource) Total() int64     { return s.total }
func (s *corpusSource) Close() error     { return s.r.Close() }

func (s *corpusSource) Next() (Item, error) {
	rec, err := s.r.Next()
	var lineErr *corpus.LineError
	switch {
	case errors.As(err, &lineErr):
		return Item{Where: fmt.Sprintf("%s line %d", s.path, lineErr.Line), Document: func() (cari.Document, error) {
			return cari.Document{}, &RecordError{Reason: "invalid", Err: lineErr}
		}}, nil
	case err != nil:
		return Item{}, err
	}
	return Item{
		Where:    fmt.Sprintf("%s line %d (id %q)", s.path, s.r.Line(), rec.ID),
		Document: func() (cari.Document, error) { return cari.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text}, nil },
	}, nil
}
