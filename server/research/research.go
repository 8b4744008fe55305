// Package research is Exa's Research API (POST and GET /research/v1, GET
// /research/v1/{researchId}) on the operator's own chat model: a task
// takes instructions and, optionally, a JSON Schema; an agent loop on an
// OpenAI-compatible /v1/chat/completions server with tool calls (Qwen3 or
// DeepSeek under vLLM, llama.cpp, SGLang or Ollama) plans, searches, reads
// and follows up over the served collection, and writes a Markdown report
// citing its sources, or a JSON object valid against the schema.
//
// The agent's tools post to Exa's endpoints (POST /search, /contents,
// /findSimilar) in-process with the credentials of the request that made
// the task, so its searches pass the same API keys, limits, logs and
// metrics as any other. Tasks are stored one file each in a directory and
// survive a restart; one that was running when the server stopped goes on
// from its last step on a server without keys (Options.Resume), and is
// failed with that reason on one with keys, as its creator's key was never
// written down.
package research

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of the budgets, in one place.
const (
	// DefaultMaxSteps bounds the model calls of one task: enough to plan,
	// search and read a handful of times and write the report.
	DefaultMaxSteps = 12
	// DefaultMaxTokens bounds the tokens (prompt and completion, as the
	// model server counts them) one task may spend.
	DefaultMaxTokens = 200_000
	// DefaultTimeout bounds one task's run.
	DefaultTimeout = 10 * time.Minute
	// DefaultCallTimeout bounds one model call.
	DefaultCallTimeout = 2 * time.Minute
	// DefaultMaxConcurrent is how many tasks run at once on a server; the
	// rest wait, pending, for a slot.
	DefaultMaxConcurrent = 2
	// DefaultMaxPending bounds the tasks waiting for a slot; past it a
	// create is refused with 429.
	DefaultMaxPending = 64
	// DefaultReplyTokens caps one reply of the model.
	DefaultReplyTokens = 4096
)

// Options configure the Research API.
type Options struct {
	// Dir holds the tasks, one JSON file each. Required.
	Dir string
	// Exa serves Exa's endpoints (POST /search, /contents, /findSimilar),
	// which the agent's tools call. Required.
	Exa http.Handler
	// Chat is the model server that runs the agent; its zero value runs
	// none, and a create is refused naming the setting.
	Chat ChatOptions
	// MaxSteps bounds the model calls of one task (default
	// DefaultMaxSteps); the last one must write the output.
	MaxSteps int
	// MaxTokens bounds the tokens of one task (default DefaultMaxTokens);
	// past it the next call must write the output.
	MaxTokens int
	// Timeout bounds one task's run (default DefaultTimeout).
	Timeout time.Duration
	// MaxConcurrent is how many tasks run at once (default
	// DefaultMaxConcurrent).
	MaxConcurrent int
	// MaxPending bounds the tasks waiting to run (default
	// DefaultMaxPending).
	MaxPending int
	// Owner names the caller of a request from its credentials
	// (Caller.Auth), for the tasks it may see: the API key's name. Nil:
	// every caller is the same, and sees every task.
	Owner func(auth map[string]string) string
	// CheckCollection, if set, refuses a task on a collection ("" is
	// default) that does not exist (a NOT_FOUND status error) or that the
	// credentials may not search (PERMISSION_DENIED), naming it.
	CheckCollection func(ctx context.Context, auth map[string]string, collection string) error
	// Resume runs again, from their last step, the tasks that a stopped
	// server left unfinished, rather than failing them. Only for a server
	// without API keys: with keys, a task's tool calls carry the key of
	// the request that created it, which is never stored.
	Resume bool
	// MaxBodyBytes bounds a create request's body (default 1 MiB).
	MaxBodyBytes int64
	// Logger receives the tasks' failures; nil discards them.
	Logger *slog.Logger
}

// ChatOptions name the OpenAI-compatible chat server the agent runs on;
// cari serve fills them from --answer-url, --answer-model and the
// answer key, the same server that writes Exa's answers.
type ChatOptions struct {
	// URL is the API root including /v1 (http://127.0.0.1:8002/v1); empty:
	// no model, and no research.
	URL string
	// Model is the served model's name. Required with URL.
	Model string
	// APIKey, if set, is sent as a bearer token.
	APIKey string
	// HTTPClient sends the requests (default http.DefaultClient).
	HTTPClient *http.Client
	// CallTimeout bounds one model call (default DefaultCallTimeout).
	CallTimeout time.Duration
	// ReplyTokens caps one reply (default DefaultReplyTokens).
	ReplyTokens int
}

// Errors that end a task without its agent failing.
var (
	errShutdown    = errors.New("the server shut down while the task was running; create it again")
	errInterrupted = errors.New("the server stopped while the task was running (crashed or was killed); create it again")
	errCanceled    = errors.New("canceled")
)

// Service runs and keeps research tasks.
type Service struct {
	opts  Options
	store taskStore
	chat  *chatClient // nil: no model server
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	tasks   map[string]*task
	pending int

	slots chan struct{}
	// closed is closed when Close has stored every task, ending the
	// watches of tasks left running for the next start; Close may be
	// called more than once.
	closed    chan struct{}
	closeOnce sync.Once
	ctx       context.Context
	stop      context.CancelCauseFunc
	wg        sync.WaitGroup
}

// New loads the tasks in o.Dir, failing those a stopped server left
// unfinished, and returns the Service that runs new ones.
func New(o Options) (*Service, error) {
	if o.Dir == "" {
		return nil, errors.New("research: no directory for the tasks")
	}
	if o.Exa == nil {
		return nil, errors.New("research: no Exa handler for the tools")
	}
	o.setDefaults()
	chat, err := newChatClient(o.Chat)
	if err != nil {
		return nil, err
	}
	s := &Service{opts: o, store: taskStore{dir: o.Dir}, chat: chat, log: o.Logger, now: time.Now,
		tasks: map[string]*task{}, slots: make(chan struct{}, o.MaxConcurrent), closed: make(chan struct{})}
	s.ctx, s.stop = context.WithCancelCause(context.Background())
	recs, skipped, err := s.store.load()
	if err != nil {
		return nil, err
	}
	for _, err := range skipped {
		s.log.Error("research task skipped", "error", err)
	}
	var resume []*task
	for _, rec := range recs {
		if !rec.Status.finished() && !o.Resume {
			rec = failed(rec, errInterrupted, s.now())
			if err := s.store.save(rec); err != nil {
				return nil, fmt.Errorf("research task %s: %w", rec.ResearchID, err)
			}
			s.log.Warn("research task failed: the server stopped while it ran", "research_id", rec.ResearchID)
		}
		t := newTask(rec)
		s.tasks[rec.ResearchID] = t
		if !rec.Status.finished() {
			resume = append(resume, t)
		}
	}
	for _, t := range resume {
		s.log.Info("resuming research task", "research_id", t.id, "status", t.rec.Status)
		s.pending++
		s.start(t)
	}
	return s, nil
}

func (o *Options) setDefaults() {
	if o.MaxSteps <= 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Close stops the tasks and waits until they are stored: failed with the
// reason that the server shut down, or, with Options.Resume, left as they
// were for the next start to resume.
func (s *Service) Close() {
	s.stop(errShutdown)
	s.wg.Wait()
	s.closeOnce.Do(func() { close(s.closed) })
}

// failed is rec failed for err at now, with the research-output event
// that says why.
func failed(rec Record, err error, now time.Time) Record {
	rec.Status, rec.Error, rec.FinishedAt, rec.State = StatusFailed, err.Error(), now.UnixMilli(), nil
	rec.Events = append(rec.Events, Event{EventType: eventOutput, ResearchID: rec.ResearchID, CreatedAt: now.UnixMilli(),
		Output: &EventOutput{OutputType: "failed", Error: err.Error()}})
	return rec
}

// start queues t and runs it when a slot frees.
func (s *Service) start(t *task) {
	ctx, cancel := context.WithCancelCause(s.ctx)
	t.mu.Lock()
	t.cancel = cancel
	t.mu.Unlock()
	s.wg.Go(func() {
		defer cancel(nil)
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			s.leavePending()
			s.finish(t, nil, 0, context.Cause(ctx))
			return
		}
		s.leavePending()
		defer func() { <-s.slots }()
		out, tokens, err := s.run(ctx, t)
		if err != nil && ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		s.finish(t, out, tokens, err)
	})
}

func (s *Service) leavePending() {
	s.mu.Lock()
	s.pending--
	s.mu.Unlock()
}

// run is one task's agent, under the task's time budget. It returns the
// tokens the agent spent with its output.
func (s *Service) run(ctx context.Context, t *task) (*Output, int, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, s.opts.Timeout,
		fmt.Errorf("the task ran past its time budget of %s", s.opts.Timeout))
	defer cancel()
	rec := s.save(t, func(r *Record) {
		if r.Status != StatusRunning { // a resumed task has its plan
			r.Events = append(r.Events, Event{EventType: eventPlanDef, ResearchID: r.ResearchID, CreatedAt: s.now().UnixMilli(), PlanID: planID})
		}
		r.Status = StatusRunning
	})
	a, err := s.newAgent(t, rec)
	if err != nil {
		return nil, 0, err
	}
	out, err := a.run(ctx)
	return out, a.tokens, err
}

// finish stores the task's end: its output and the tokens spent on it, or
// why it has none.
func (s *Service) finish(t *task, out *Output, tokens int, err error) {
	now := s.now()
	if errors.Is(err, errShutdown) && s.opts.Resume {
		return // left running on disk, to go on at the next start
	}
	rec := s.save(t, func(r *Record) {
		r.State = nil
		switch {
		case r.Status.finished():
			// canceled while the agent wound down
		case errors.Is(err, errCanceled):
			r.Status, r.FinishedAt = StatusCanceled, now.UnixMilli()
		case err != nil:
			*r = failed(*r, err, now)
		default:
			r.Status, r.FinishedAt, r.Output = StatusCompleted, now.UnixMilli(), out
			r.CostDollars = costOf(r.Events, tokens)
			r.Events = append(r.Events, Event{EventType: eventOutput, ResearchID: r.ResearchID, CreatedAt: now.UnixMilli(),
				Output: &EventOutput{OutputType: "completed", Content: out.Content, Parsed: out.Parsed, CostDollars: r.CostDollars}})
		}
	})
	if rec.Status == StatusFailed {
		s.log.Warn("research task failed", "research_id", rec.ResearchID, "error", rec.Error)
	}
}

// save changes t's record and stores it; a failure to store is logged,
// for the task goes on in memory.
func (s *Service) save(t *task, f func(*Record)) Record {
	rec := t.update(f)
	if err := s.store.save(rec); err != nil {
		s.log.Error("storing research task", "research_id", rec.ResearchID, "error", err)
	}
	return rec
}

// owner names caller c.
func (s *Service) owner(c Caller) string {
	if s.opts.Owner == nil {
		return ""
	}
	return s.opts.Owner(c.Auth)
}

// lookup returns the task with id that owner may see, or nil.
func (s *Service) lookup(id, owner string) *task {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tasks[id]; t != nil && t.owner == owner {
		return t
	}
	return nil
}

// list returns the tasks that owner may see, newest first.
func (s *Service) list(owner string) []*task {
	s.mu.Lock()
	ts := make([]*task, 0, len(s.tasks))
	for _, t := range s.tasks {
		if t.owner == owner {
			ts = append(ts, t)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(ts, func(a, b *task) int {
		return cmp.Or(cmp.Compare(b.createdAt, a.createdAt), strings.Compare(b.id, a.id))
	})
	return ts
}
