package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/corpus"
	"github.com/cari-search/cari/searcher/rerank"
)

func newIndexCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var corpusPath, language string
	var batch int
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Index a BEIR-layout corpus.jsonl or corpus.jsonl.gz into a data directory",
		Long: `Index reads a corpus in the BEIR layout, one JSON object per line:
  {"_id": "...", "title": "...", "text": "...", "language": "en"}
gzip-compressed or not; "language" (a BCP 47 tag) is optional. Documents with
an _id already in the index replace it. Malformed lines are reported with their
line number and skipped.

A document that names no language has it detected from its opening; with
--language, every such document is taken to be in that language instead,
which for a corpus in one language skips detection, most of the indexing CPU.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			if corpusPath == "" {
				return errors.New("--corpus is required")
			}
			if err := checkLanguageTag(language); err != nil {
				return fmt.Errorf("--language: %w", err)
			}
			stackF.rerank.Kind = rerank.KindNone // indexing never searches
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			opts := st.indexing
			opts.BatchSize = batch
			sum, err := indexCorpus(cmd, st.index, opts, corpusPath, language, log)
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "indexed %d documents from %s in %.1fs (%.0f docs/s); skipped %d malformed lines\n",
				sum.indexed, corpusPath, sum.elapsed.Seconds(), float64(sum.indexed)/sum.elapsed.Seconds(), sum.skipped)
			return nil
		},
	}
	stackF.register(cmd.Flags())
	stackF.storage.register(cmd.Flags())
	cmd.Flags().StringVar(&corpusPath, "corpus", "", "corpus file: corpus.jsonl or corpus.jsonl.gz (required)")
	cmd.Flags().IntVar(&batch, "batch", 512, "documents per atomic write")
	cmd.Flags().StringVar(&language, "language", "", `language (BCP 47 tag, such as "en") of the documents whose corpus line names none; they skip language detection`)
	return cmd
}

type indexSummary struct {
	indexed, skipped int
	elapsed          time.Duration
}

// checkLanguageTag checks a language tag given with --language.
func checkLanguageTag(tag string) error {
	_, err := cari.LanguageTag(tag)
	return err
}

// indexCorpus indexes the corpus at path into w; language, when not empty,
// is the language of the documents that name none.
func indexCorpus(cmd *cobra.Command, w indexer.Writer, opts indexer.Options, path, language string, log *slog.Logger) (indexSummary, error) {
	var sum indexSummary
	start := time.Now()
	if err := checkLanguageTag(language); err != nil {
		return sum, fmt.Errorf("--language: %w", err)
	}
	r, err := corpus.Open(path)
	if err != nil {
		return sum, err
	}
	defer r.Close()
	// A bulk load prepares the next batch while the store writes this one.
	opts.Pipelined = true
	ix, err := indexer.New(w, opts)
	if err != nil {
		return sum, err
	}
	// On an error, the batch being written is finished before the caller
	// closes the store.
	defer ix.Wait()
	// added remembers where each accepted document came from, until the
	// batch holding it is stored: a batch is acknowledged in a later Add
	// than the one that completed it.
	type mark struct {
		added, line int
		id          string
	}
	var added []mark
	accepted := 0
	bar := newProgress("indexing", -1, log)
	ctx := cmd.Context()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var lineErr *corpus.LineError
		if errors.As(err, &lineErr) {
			sum.skipped++
			log.Warn("skipped malformed corpus line", "line", lineErr.Line, "error", lineErr.Err)
			continue
		}
		if err != nil {
			return sum, err
		}
		// Normalize, in Add, canonicalises the language and refuses one
		// that is not a language tag.
		doc := cari.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text, Language: cmp.Or(strings.TrimSpace(rec.Language), language)}
		before := ix.Written()
		if err := ix.Add(ctx, doc); err != nil {
			var fe *cari.FieldError
			if errors.As(err, &fe) {
				sum.skipped++
				log.Warn("skipped invalid document", "line", r.Line(), "id", rec.ID, "error", err)
				continue
			}
			return sum, err
		}
		accepted++
		added = append(added, mark{accepted, r.Line(), doc.ID})
		if n := ix.Written(); n > before {
			// Logged once the batch is durable: what the crash test (and an
			// operator resuming after a crash) counts as acknowledged.
			i := slices.IndexFunc(added, func(m mark) bool { return m.added == n })
			log.Debug("committed batch", "documents", n, "through_line", added[i].line, "last_id", added[i].id)
			added = slices.Delete(added, 0, i+1)
		}
		bar.Add(1)
	}
	if err := ix.Flush(ctx); err != nil {
		return sum, err
	}
	log.Debug("committed batch", "documents", ix.Written(), "through_line", r.Line())
	bar.Finish()
	sum.indexed = ix.Written()
	sum.elapsed = time.Since(start)
	return sum, nil
}
