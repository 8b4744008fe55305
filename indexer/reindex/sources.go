package reindex

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Sources names a reindex's source as cari reindex's flags do: exactly one
// of a corpus file, a WARC glob, a directory of files, or the serving
// generation's stored documents.
type Sources struct {
	Corpus, WARC, Dir string
	Stored            bool
}

// Check reports unless exactly one source is named, naming the flags given.
func (s Sources) Check() error {
	var names []string
	for name, set := range map[string]bool{"--corpus": s.Corpus != "", "--warc": s.WARC != "", "--dir": s.Dir != "", "--stored": s.Stored} {
		if set {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		sort.Strings(names)
		got := fmt.Sprint(len(names))
		if len(names) > 0 {
			got += ": " + strings.Join(names, " ")
		}
		return fmt.Errorf("give exactly one source: --corpus, --warc, --dir or --stored (got %s)", got)
	}
	return nil
}

// Open opens the one source s names; stored and generation are the
// serving generation, read with Stored. The error names the source's flag.
func (s Sources) Open(ctx context.Context, stored Stored, generation string) (Source, error) {
	var (
		src  Source
		err  error
		flag string
	)
	switch {
	case s.Corpus != "":
		flag = "--corpus"
		src, err = OpenCorpus(s.Corpus)
	case s.WARC != "":
		flag = "--warc"
		src, err = OpenWARC(s.WARC)
	case s.Dir != "":
		flag = "--dir"
		src, err = OpenDir(s.Dir)
	default:
		flag = "--stored"
		src, err = OpenStored(ctx, stored, generation)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return src, nil
}
