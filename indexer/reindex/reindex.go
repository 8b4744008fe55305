// Package reindex rebuilds an index from a source into a new generation
// while the old one keeps serving, then swaps it in: from a BEIR corpus, WARC
// files, a directory of HTML, text and Markdown files, or the serving
// generation's own stored documents. A job commits its batches with the
// source position they reach, so a job killed at any point resumes after the
// last committed batch; the serving alias moves only once the new generation
// is complete.
package reindex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/store"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/indexer"
)

// Build is a generation under construction (local.Build, qdrant.Build).
type Build interface {
	Name() string
	Resumed() bool
	Position() (int64, error)
	Commit(ctx context.Context, entries []store.Entry, position int64) error
	Finalize(ctx context.Context) error
	Swap(ctx context.Context) error
	Abort() error
	Pause()
}

// Target is a store that builds generations beside the serving one.
type Target interface {
	BeginBuild(source string) (Build, error)
}

// Builds makes a Target of a store's BeginBuild method, whatever its
// concrete Build type: reindex.Builds(localStore.BeginBuild) or
// reindex.Builds(qdrantStore.BeginBuild).
func Builds[B Build](begin func(source string) (B, error)) Target { return beginFunc[B](begin) }

type beginFunc[B Build] func(source string) (B, error)

func (f beginFunc[B]) BeginBuild(source string) (Build, error) {
	b, err := f(source)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Defaults, in one place.
const (
	DefaultBatchSize         = 512
	DefaultMaxFailedFraction = 0.01
	DefaultProgressInterval  = time.Second
	// DefaultKeep is how many replaced generations a swap keeps for
	// rollback: the one just replaced.
	DefaultKeep = 1
)

// Options configure a job. Target and Source are required.
type Options struct {
	Target Target
	Source Source
	// Chunk shapes passages; Embedder embeds them (nil: keyword only),
	// exactly as indexer.Options.
	Chunk    analysis.ChunkOptions
	Embedder indexer.DocumentEmbedder
	// BatchSize is the number of source records per atomic commit
	// (default DefaultBatchSize). Workers is the number of records turned
	// into documents at once (default GOMAXPROCS).
	BatchSize int
	Workers   int
	// MaxFailedFraction is the share of source records that may fail
	// before the job gives up with ErrTooManyFailures, leaving the serving
	// generation in place (default DefaultMaxFailedFraction; negative:
	// none may fail).
	MaxFailedFraction float64
	// Progress, when set, is called at each phase and about every
	// ProgressInterval while indexing (default DefaultProgressInterval).
	Progress         func(Progress)
	ProgressInterval time.Duration
	// Logger receives failed records and the job's steps; nil discards.
	Logger *slog.Logger
	// Now stamps documents that have no crawl time; default time.Now.
	Now func() time.Time
	// Discard removes the unfinished generation when the job fails or is
	// cancelled, as a server's job does when its call ends; by default it
	// is kept, and a later Run with the same source resumes it.
	Discard bool
}

// Phase is the step a job is on.
type Phase int

// The phases, in order.
const (
	Preparing Phase = iota + 1
	Indexing
	Finalizing
	Swapping
	Done
)

func (p Phase) String() string {
	return [...]string{"", "preparing", "indexing", "finalizing", "swapping", "done"}[p]
}

// Progress is a job's state.
type Progress struct {
	Phase      Phase
	Generation string
	// Resumed is set when the job took up an unfinished build; Start is
	// the number of source records it had committed.
	Resumed bool
	Start   int64
	// Done counts the source records processed, by this run and, after a
	// resume, by the runs before it (Start of them).
	Done int64
	// Indexed, Skipped and Failed count this run's records by outcome.
	Indexed, Skipped, Failed int64
	// Total is the number of source records, -1 while unknown.
	Total int64
	// Errors counts this run's failed records by reason.
	Errors map[string]int64
	// Elapsed is the time since this run of the job started; Rate is the
	// records per second it processed; ETA is zero when unknown.
	Elapsed time.Duration
	Rate    float64
	ETA     time.Duration
	// Swapped is set once the new generation serves.
	Swapped bool
}

// ErrTooManyFailures is returned when more source records failed than
// Options.MaxFailedFraction allows.
var ErrTooManyFailures = errors.New("too many source records failed")

// Run builds a new generation from opts.Source and swaps it in. On success
// the last Progress has Phase Done and Swapped set. When ctx is cancelled
// or the job fails, the unfinished generation is kept for a later Run with
// the same source to resume (or removed, with Options.Discard); the
// serving generation is never touched.
func Run(ctx context.Context, opts Options) (Progress, error) {
	j, err := newJob(opts)
	if err != nil {
		return Progress{}, err
	}
	return j.run(ctx)
}

type job struct {
	opts  Options
	src   Source
	build Build
	ix    *indexer.Indexer
	w     *positionWriter
	log   *slog.Logger

	mu       sync.Mutex // guards p for Snapshot callers
	p        Progress
	started  time.Time
	lastSent time.Time
	logged   int64
}

func newJob(opts Options) (*job, error) {
	if opts.Target == nil || opts.Source == nil {
		return nil, errors.New("reindex: Target and Source are required")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case opts.MaxFailedFraction == 0:
		opts.MaxFailedFraction = DefaultMaxFailedFraction
	case opts.MaxFailedFraction < 0:
		opts.MaxFailedFraction = 0
	case opts.MaxFailedFraction > 1 || math.IsNaN(opts.MaxFailedFraction):
		return nil, fmt.Errorf("max failed fraction must be between 0 and 1, got %v", opts.MaxFailedFraction)
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = DefaultProgressInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &job{opts: opts, src: opts.Source, log: opts.Logger,
		p: Progress{Phase: Preparing, Total: opts.Source.Total(), Errors: map[string]int64{}}}, nil
}

func (j *job) run(ctx context.Context) (Progress, error) {
	j.started = time.Now()
	j.report(true)
	if err := j.begin(); err != nil {
		return j.progress(), err
	}
	err := j.index(ctx)
	if err == nil {
		err = j.checkFailures(true)
	}
	if err == nil {
		j.setPhase(Finalizing)
		if err = j.build.Finalize(ctx); err != nil {
			err = fmt.Errorf("finalize generation %s: %w", j.build.Name(), err)
		}
	}
	if err == nil {
		j.setPhase(Swapping)
		if err = j.build.Swap(ctx); err != nil {
			err = fmt.Errorf("swap in generation %s: %w", j.build.Name(), err)
		}
	}
	if err != nil {
		return j.progress(), j.stop(err)
	}
	j.mu.Lock()
	j.p.Swapped = true
	j.mu.Unlock()
	j.setPhase(Done)
	return j.progress(), nil
}

// stop ends a job that failed: the build is paused to resume later, or
// removed with Options.Discard.
func (j *job) stop(err error) error {
	if !j.opts.Discard {
		j.build.Pause()
		j.log.Info("reindex stopped; run it again with the same source to resume", "generation", j.build.Name(), "err", err)
		return err
	}
	if aerr := j.build.Abort(); aerr != nil {
		return errors.Join(err, fmt.Errorf("discard generation %s: %w", j.build.Name(), aerr))
	}
	j.log.Info("reindex stopped; its generation was discarded", "generation", j.build.Name(), "err", err)
	return err
}

// begin creates or resumes the generation and moves the source past what
// it already holds.
func (j *job) begin() error {
	b, err := j.opts.Target.BeginBuild(j.src.Describe())
	if err != nil {
		return err
	}
	j.build = b
	pos, err := b.Position()
	if err == nil && pos > 0 {
		err = skip(j.src, pos)
	}
	if err == nil {
		j.w = &positionWriter{b: b}
		j.ix, err = indexer.New(j.w, indexer.Options{
			BatchSize: math.MaxInt, Chunk: j.opts.Chunk, Embedder: j.opts.Embedder, Now: j.opts.Now,
		})
	}
	if err != nil {
		b.Pause()
		return err
	}
	j.mu.Lock()
	j.p.Generation, j.p.Resumed, j.p.Start, j.p.Done = b.Name(), b.Resumed(), pos, pos
	j.mu.Unlock()
	if b.Resumed() {
		j.log.Info("resuming reindex", "generation", b.Name(), "source", j.src.Describe(), "records_done", pos)
	} else {
		j.log.Info("reindex started", "generation", b.Name(), "source", j.src.Describe())
	}
	return nil
}

// batch is a run of source records converted to documents, ending at
// source position end.
type batch struct {
	docs    []converted
	end     int64
	readErr error
}

type converted struct {
	where string
	doc   cari.Document
	err   error
}

// index reads batches on one goroutine and converts their records on the
// workers, while the previous batch is chunked, embedded and committed.
func (j *job) index(ctx context.Context) error {
	j.setPhase(Indexing)
	ctx, cancel := context.WithCancel(ctx)
	batches := make(chan batch, 1)
	go j.produce(ctx, batches)
	// The producer reads the source: wait for it to stop before the
	// caller may close the source.
	defer func() {
		cancel()
		for range batches {
		}
	}()
	for b := range batches {
		if b.readErr != nil {
			return b.readErr
		}
		if err := j.commit(ctx, b); err != nil {
			return err
		}
		if err := j.checkFailures(false); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (j *job) produce(ctx context.Context, out chan<- batch) {
	defer close(out)
	pos := j.p.Start
	for ctx.Err() == nil {
		items := make([]Item, 0, j.opts.BatchSize)
		var readErr error
		for len(items) < j.opts.BatchSize {
			it, err := j.src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				readErr = fmt.Errorf("read source %s: %w", j.src.Describe(), err)
				break
			}
			items = append(items, it)
		}
		if len(items) > 0 {
			pos += int64(len(items))
			select {
			case out <- batch{docs: j.convert(items), end: pos}:
			case <-ctx.Done():
				return
			}
		}
		if readErr != nil {
			select {
			case out <- batch{readErr: readErr}:
			case <-ctx.Done():
			}
			return
		}
		if len(items) < j.opts.BatchSize {
			return
		}
	}
}

// convert makes the items' documents on the worker pool, in order.
func (j *job) convert(items []Item) []converted {
	out := make([]converted, len(items))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(j.opts.Workers, len(items)) {
		wg.Go(func() {
			for i := range next {
				out[i].where = items[i].Where
				out[i].doc, out[i].err = items[i].Document()
			}
		})
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// commit indexes one batch's documents and commits them with the batch's
// end position.
func (j *job) commit(ctx context.Context, b batch) error {
	var indexed, skipped int64
	failed := map[string]int64{}
	for _, c := range b.docs {
		err := c.err
		if err == nil {
			err = j.ix.Add(ctx, c.doc)
		}
		var fe *cari.FieldError
		var re *RecordError
		switch {
		case err == nil:
			indexed++
		case errors.Is(err, ErrSkip):
			skipped++
		case errors.As(err, &re):
			failed[re.Reason]++
			j.logFailure(c.where, err)
		case errors.As(err, &fe) || c.err != nil:
			failed["invalid"]++
			j.logFailure(c.where, err)
		default:
			return err
		}
	}
	j.w.position = b.end
	if j.ix.Pending() == 0 {
		// Nothing to write, but the position moves on.
		if err := j.build.Commit(ctx, nil, b.end); err != nil {
			return err
		}
	} else if err := j.ix.Flush(ctx); err != nil {
		return err
	}
	j.mu.Lock()
	j.p.Done = b.end
	j.p.Indexed += indexed
	j.p.Skipped += skipped
	for k, n := range failed {
		j.p.Failed += n
		j.p.Errors[k] += n
	}
	j.mu.Unlock()
	j.report(false)
	return nil
}

// maxLoggedFailures bounds the failed records logged one by one.
const maxLoggedFailures = 100

func (j *job) logFailure(where string, err error) {
	j.logged++
	if j.logged <= maxLoggedFailures {
		j.log.Warn("source record failed", "record", where, "err", err)
	}
	if j.logged == maxLoggedFailures {
		j.log.Warn("further failed records are counted, not logged")
	}
}

// checkFailures gives up when failures pass the allowed share of the
// records: of all of them once known (or at the end), so that a job fails
// early rather than after hours.
func (j *job) checkFailures(final bool) error {
	p := j.progress()
	if !final && p.Total < 0 {
		return nil
	}
	total := p.Total
	if final {
		total = p.Done
	}
	allowed := int64(j.opts.MaxFailedFraction * float64(total))
	if p.Failed > allowed {
		return fmt.Errorf("%w: %d of %d (%v), more than the %.2f%% allowed; the serving generation is unchanged",
			ErrTooManyFailures, p.Failed, total, p.Errors, 100*j.opts.MaxFailedFraction)
	}
	return nil
}

func (j *job) setPhase(ph Phase) {
	j.mu.Lock()
	j.p.Phase = ph
	j.mu.Unlock()
	j.report(true)
}

// progress returns a copy of the job's state with its rates filled in.
func (j *job) progress() Progress {
	j.mu.Lock()
	defer j.mu.Unlock()
	p := j.p
	p.Errors = make(map[string]int64, len(j.p.Errors))
	for k, v := range j.p.Errors {
		p.Errors[k] = v
	}
	p.Elapsed = time.Since(j.started)
	if s := p.Elapsed.Seconds(); s > 0 {
		p.Rate = float64(p.Done-p.Start) / s
	}
	if p.Total >= 0 && p.Rate > 0 && p.Phase == Indexing {
		p.ETA = time.Duration(float64(p.Total-p.Done) / p.Rate * float64(time.Second))
	}
	return p
}

// report calls Options.Progress at phase changes (force) and at most once
// per interval otherwise.
func (j *job) report(force bool) {
	if j.opts.Progress == nil {
		return
	}
	if !force && time.Since(j.lastSent) < j.opts.ProgressInterval {
		return
	}
	j.lastSent = time.Now()
	j.opts.Progress(j.progress())
}

// positionWriter commits the indexer's batches to the build with the
// source position they reach.
type positionWriter struct {
	b        Build
	position int64
}

func (w *positionWriter) Upsert(ctx context.Context, entries []store.Entry) error {
	return w.b.Commit(ctx, entries, w.position)
}
