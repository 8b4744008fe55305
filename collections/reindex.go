package collections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cari-search/cari/indexer/reindex"
)

// ReindexOptions are one run of cari reindex on a collection of the local
// store: the job's settings (batch, workers, share of records that may
// fail; the rest Reindex sets), its one source, and what is kept after.
type ReindexOptions struct {
	reindex.Options
	Sources reindex.Sources
	// Keep is how many replaced generations are kept for rollback after
	// the swap; -1 keeps all.
	Keep int
	// ProgressInterval is the time between progress lines when stderr is
	// not a terminal.
	ProgressInterval time.Duration
}

// Validate checks o before anything is opened.
func (o ReindexOptions) Validate() error {
	if o.MaxFailedFraction < 0 || o.MaxFailedFraction > 1 {
		return fmt.Errorf("--max-failed must be between 0 and 1, got %v", o.MaxFailedFraction)
	}
	return o.Sources.Check()
}

// Reindex builds a new generation of c (open with Options.Rebuild) from
// o's source beside the serving one and swaps it in, writing the job's
// summary to w, then removes the replaced generations beyond o.Keep. A job
// cut short resumes when run again with the same source.
func (c *Collection) Reindex(ctx context.Context, o ReindexOptions, w io.Writer) error {
	if c.Local == nil {
		return errors.New("reindex rebuilds a collection of the local store; on Qdrant use IndexService.Reindex")
	}
	opts := o.Options
	if opts.MaxFailedFraction == 0 {
		opts.MaxFailedFraction = -1 // none may fail
	}
	before := c.Local.Generation().Name
	src, err := o.Sources.Open(ctx, c.Local, before)
	if err != nil {
		return err
	}
	defer src.Close()
	rep := reindex.NewReporter(c.Logger, o.ProgressInterval)
	opts.Target, opts.Source, opts.Chunk, opts.Logger = reindex.Builds(c.Local.BeginBuild), src, c.Indexing.Chunk, c.Logger
	opts.Progress, opts.ProgressInterval = rep.Report, min(o.ProgressInterval, time.Second)
	if c.Indexing.Embedder != nil {
		opts.Embedder = c.Indexing.Embedder
	}
	p, err := reindex.Run(ctx, opts)
	rep.Finish()
	if err != nil {
		if p.Generation != "" {
			return fmt.Errorf("reindex into generation %s stopped after %d of %s source records: %w (run the same command again to resume; %s still serves)",
				p.Generation, p.Done, p.TotalString(), err, before)
		}
		return err
	}
	gens, _ := c.Local.Generations(ctx) // none: no comparison, the plain note
	p.WriteSummary(w, src.Describe(), before, gens)
	if o.Keep < 0 {
		return nil
	}
	removed, err := c.Local.GC(o.Keep)
	if err != nil {
		return fmt.Errorf("remove old generations: %w", err)
	}
	if len(removed) > 0 {
		fmt.Fprintf(w, "removed %d older generations (--keep %d): %s\n", len(removed), o.Keep, strings.Join(removed, " "))
	}
	return nil
}

// CollectGenerations removes the generations of c a reindex replaced but
// the newest keep, and unfinished builds that can no longer resume (unless
// listOnly), then lists the generations left, as cari gc does.
func (c *Collection) CollectGenerations(ctx context.Context, keep int, listOnly bool, w io.Writer) error {
	if c.Local == nil {
		return errors.New("gc removes generations of the local store; Qdrant keeps its own")
	}
	if !listOnly {
		removed, err := c.Local.GC(keep)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "removed %d generations", len(removed))
		if len(removed) > 0 {
			fmt.Fprintf(w, ": %s", strings.Join(removed, " "))
		}
		fmt.Fprintln(w)
	}
	gens, err := c.Local.Generations(ctx)
	if err != nil {
		return err
	}
	return reindex.WriteGenerations(w, gens)
}

// Rollback points c's serving alias back at the generation to (by
// default the one before the serving one), as cari reindex --rollback
// does, and says so on w.
func (c *Collection) Rollback(to string, w io.Writer) error {
	if c.Local == nil {
		return errors.New("rollback moves the serving generation of the local store; on Qdrant move its alias")
	}
	from := c.Local.Generation().Name
	m, err := c.Local.Rollback(to)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "generation %s serves now (was %s)\n", m.Name, from)
	return nil
}
