package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/cari-search/cari/indexer"
	"github.com/cari-search/cari/indexer/reindex"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/store"
)

// ReindexOptions configure IndexService.Reindex. The zero value turns it
// off (no Target).
type ReindexOptions struct {
	// Target builds new generations beside the serving one. Nil: Reindex
	// answers FAILED_PRECONDITION.
	Target reindex.Target
	// Stored holds the serving generation's documents, the source of
	// requests with current_index (the generation the store's stats
	// name). Nil: such requests answer FAILED_PRECONDITION.
	Stored reindex.Stored
	// ImportDirs are the directories under which the paths of requests
	// must lie; a path elsewhere answers PERMISSION_DENIED.
	ImportDirs []string
	// Model names the embedding model the server embeds with (the model's
	// name as --embed-model gives it); a request's embedding_model must
	// name it or nothing, since the server's searches use one model.
	Model string
	// GC, when set, removes replaced generations after a swap, keeping
	// the newest Keep of them for rollback.
	GC   func(keep int) ([]string, error)
	Keep int
	// ProgressInterval is the time between progress messages. Default 1s.
	ProgressInterval time.Duration
}

// reindexJobs runs Reindex jobs, one at a time: a data directory builds
// one generation at a time.
type reindexJobs struct {
	opts     ReindexOptions
	store    IndexStore
	indexing indexer.Options
	log      *slog.Logger

	mu      sync.Mutex
	running string // the running job's ID, "" when none
	started time.Time
}

func newReindexJobs(opts ReindexOptions, store IndexStore, indexing indexer.Options, log *slog.Logger) *reindexJobs {
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = time.Second
	}
	return &reindexJobs{opts: opts, store: store, indexing: indexing, log: log}
}

// Reindex builds a new generation from the request's source and swaps it
// in, streaming progress. The job lasts as long as the call: cancelling it
// cancels the job and discards the partial generation.
func (s *indexServiceWithCrawl) Reindex(req *cariv1.ReindexRequest, stream cariv1.IndexService_ReindexServer) error {
	return s.reindexes.reindex(req, stream)
}

func (j *reindexJobs) reindex(req *cariv1.ReindexRequest, stream cariv1.IndexService_ReindexServer) error {
	ctx := stream.Context()
	if j.opts.Target == nil {
		return status.Error(codes.FailedPrecondition, "reindexing is not configured on this server")
	}
	maxFailed, err := j.checkRequest(req)
	if err != nil {
		return err
	}
	id, err := j.start()
	if err != nil {
		return err
	}
	defer j.stop()
	src, err := j.openSource(ctx, req)
	if err != nil {
		return err
	}
	defer src.Close()
	log := j.log.With("job_id", id)
	log.InfoContext(ctx, "reindex job started", "source", src.Describe())
	var sendErr error
	send := func(p reindex.Progress) {
		if sendErr == nil {
			sendErr = stream.Send(progressOf(id, p))
		}
	}
	p, err := reindex.Run(ctx, reindex.Options{
		Target: j.opts.Target, Source: src,
		Chunk: j.indexing.Chunk, Embedder: j.indexing.Embedder,
		MaxFailedFraction: maxFailed, Progress: send, ProgressInterval: j.opts.ProgressInterval,
		Logger: log, Discard: true,
	})
	switch {
	case errors.Is(err, reindex.ErrTooManyFailures):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, store.ErrBuildRunning):
		return status.Error(codes.FailedPrecondition, err.Error())
	case err != nil:
		log.WarnContext(ctx, "reindex job failed", "err", err)
		return statusOf(ctx, j.log, "Reindex", err)
	case sendErr != nil:
		return sendErr
	}
	log.InfoContext(ctx, "reindex job done", "generation", p.Generation, "indexed", p.Indexed, "failed", p.Failed, "took", p.Elapsed.Round(time.Millisecond))
	if j.opts.GC != nil && j.opts.Keep >= 0 {
		if removed, err := j.opts.GC(j.opts.Keep); err != nil {
			log.WarnContext(ctx, "removing replaced generations failed", "err", err)
		} else if len(removed) > 0 {
			log.InfoContext(ctx, "removed replaced generations", "generations", removed)
		}
	}
	return nil
}

// start claims the one job slot and returns the new job's ID; while a job
// runs it answers FAILED_PRECONDITION naming that job.
func (j *reindexJobs) start() (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.running != "" {
		return "", status.Errorf(codes.FailedPrecondition, "reindex job %s is running (started %s); one job runs at a time: wait for it, or cancel its call",
			j.running, j.started.UTC().Format(time.RFC3339))
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	j.running, j.started = "rx-"+time.Now().UTC().Format("20060102t150405")+"-"+hex.EncodeToString(b[:]), time.Now()
	return j.running, nil
}

func (j *reindexJobs) stop() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.running = ""
}

// checkRequest checks what does not need the filesystem and returns the
// allowed failed fraction.
func (j *reindexJobs) checkRequest(req *cariv1.ReindexRequest) (float64, error) {
	if req.GetSource() == nil {
		return 0, invalidArgument("source", "unset; give one of current_index, corpus_path, warc_path or directory_path")
	}
	if m := req.GetEmbeddingModel(); m != nil {
		other := m.GetProvider() != "" || m.GetEndpoint() != "" || m.GetDimension() != 0 || m.QueryPrefix != nil || m.DocumentPrefix != nil
		if other || m.GetModel() != "" && m.GetModel() != j.opts.Model {
			return 0, status.Errorf(codes.Unimplemented,
				"embedding_model: this server embeds queries with %q and reindexes with that model only; to change the model, stop the server, run cari reindex --stored with the new --embedder and --embed-model, and start the server with the new model",
				j.opts.Model)
		}
	}
	if req.MaxFailedFraction == nil {
		return reindex.DefaultMaxFailedFraction, nil
	}
	f := req.GetMaxFailedFraction()
	if !(f >= 0 && f <= 1) {
		return 0, invalidArgument("max_failed_fraction", fmt.Sprintf("must be between 0 and 1, got %v", f))
	}
	if f == 0 {
		return -1, nil // none may fail
	}
	return float64(f), nil
}

// openSource opens the request's source, checking its path.
func (j *reindexJobs) openSource(ctx context.Context, req *cariv1.ReindexRequest) (reindex.Source, error) {
	var (
		field, path string
		open        func(string) (reindex.Source, error)
	)
	switch src := req.GetSource().(type) {
	case *cariv1.ReindexRequest_CurrentIndex:
		if j.opts.Stored == nil {
			return nil, status.Error(codes.FailedPrecondition, "current_index: this server's store cannot be rebuilt from its own documents")
		}
		stats, err := j.store.Stats(ctx)
		if err != nil {
			return nil, statusOf(ctx, j.log, "Reindex", err)
		}
		s, err := reindex.OpenStored(ctx, j.opts.Stored, stats.Generation)
		if err != nil {
			return nil, statusOf(ctx, j.log, "Reindex", err)
		}
		return s, nil
	case *cariv1.ReindexRequest_CorpusPath:
		field, path, open = "corpus_path", src.CorpusPath, reindex.OpenCorpus
	case *cariv1.ReindexRequest_WarcPath:
		field, path, open = "warc_path", src.WarcPath, reindex.OpenWARC
	case *cariv1.ReindexRequest_DirectoryPath:
		field, path, open = "directory_path", src.DirectoryPath, reindex.OpenDir
	}
	abs, err := j.checkPath(field, path)
	if err != nil {
		return nil, err
	}
	s, err := open(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, status.Errorf(codes.NotFound, "%s: %v", field, err)
	case err != nil:
		return nil, invalidArgument(field, err.Error())
	}
	return s, nil
}

// checkPath makes path absolute and checks that it lies under an import
// directory (a glob's fixed part, for warc_path).
func (j *reindexJobs) checkPath(field, path string) (string, error) {
	if strings.TrimSpace(path) == "" {
		return "", invalidArgument(field, "empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", invalidArgument(field, err.Error())
	}
	if len(j.opts.ImportDirs) == 0 {
		return "", status.Errorf(codes.PermissionDenied, "%s: this server has no import directories configured (cari serve --reindex-import-dir)", field)
	}
	for _, dir := range j.opts.ImportDirs {
		d, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(d, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return abs, nil
		}
	}
	return "", status.Errorf(codes.PermissionDenied, "%s: %s is not under an import directory of this server (%s)", field, abs, strings.Join(j.opts.ImportDirs, ", "))
}

// progressOf turns a job's progress into the API's message.
func progressOf(id string, p reindex.Progress) *cariv1.ReindexProgress {
	m := &cariv1.ReindexProgress{
		JobId:           id,
		Phase:           phaseOf(p.Phase),
		DocumentsDone:   p.Done,
		DocumentsFailed: p.Failed,
		Errors:          p.Errors,
		DocsPerSecond:   p.Rate,
		Elapsed:         durationpb.New(p.Elapsed),
		Generation:      p.Generation,
		Swapped:         p.Swapped,
	}
	if p.Total >= 0 {
		m.DocumentsTotal = proto.Int64(p.Total)
	}
	if p.ETA > 0 {
		m.Eta = durationpb.New(p.ETA)
	}
	return m
}

func phaseOf(p reindex.Phase) cariv1.ReindexPhase {
	switch p {
	case reindex.Preparing:
		return cariv1.ReindexPhase_REINDEX_PHASE_PREPARING
	case reindex.Indexing:
		return cariv1.ReindexPhase_REINDEX_PHASE_INDEXING
	case reindex.Finalizing:
		return cariv1.ReindexPhase_REINDEX_PHASE_FINALIZING
	case reindex.Swapping:
		return cariv1.ReindexPhase_REINDEX_PHASE_SWAPPING
	case reindex.Done:
		return cariv1.ReindexPhase_REINDEX_PHASE_DONE
	}
	return cariv1.ReindexPhase_REINDEX_PHASE_UNSPECIFIED
}
