package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/corpus"
)

func newIndexCmd(g *globalFlags) *cobra.Command {
	var stackF stackFlags
	var corpusPath string
	var batch int
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Index a BEIR-layout corpus.jsonl or corpus.jsonl.gz into a data directory",
		Long: `Index reads a corpus in the BEIR layout, one JSON object per line:
  {"_id": "...", "title": "...", "text": "..."}
gzip-compressed or not. Documents with an _id already in the index replace it.
Malformed lines are reported with their line number and skipped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			if corpusPath == "" {
				return errors.New("--corpus is required")
			}
			stackF.reranker = "none" // indexing never searches
			st, err := openStack(cmd.Context(), stackF, log)
			if err != nil {
				return err
			}
			opts := st.indexing
			opts.BatchSize = batch
			sum, err := indexCorpus(cmd, st.index, opts, corpusPath, log)
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
	return cmd
}

type indexSummary struct {
	indexed, skipped int
	elapsed          time.Duration
}

func indexCorpus(cmd *cobra.Command, w indexer.Writer, opts indexer.Options, path string, log *slog.Logger) (indexSummary, error) {
	var sum indexSummary
	start := time.Now()
	r, err := corpus.Open(path)
	if err != nil {
		return sum, err
	}
	defer r.Close()
	ix, err := indexer.New(w, opts)
	if err != nil {
		return sum, err
	}
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
		doc := cari.Document{ID: rec.ID, Title: rec.Title, Text: rec.Text}
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
		if ix.Written() > before {
			// Logged once the batch is durable: what the crash test (and an
			// operator resuming after a crash) counts as acknowledged.
			log.Debug("committed batch", "documents", ix.Written(), "through_line", r.Line(), "last_id", doc.ID)
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
