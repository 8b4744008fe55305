package research

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Caller is who makes a request, whichever transport it came by.
type Caller struct {
	// Auth are the request's credentials ("X-Api-Key", "Authorization")
	// and address, which a task's tool calls carry.
	Auth map[string]string
}

// CreateRequest is a new task: Exa's ResearchCreateRequestDtoClass, and
// the collection it searches ("" is default).
type CreateRequest struct {
	Instructions string          `json:"instructions"`
	Model        string          `json:"model"`
	OutputSchema json.RawMessage `json:"outputSchema"`
	Collection   string          `json:"-"`
}

// Page is one page of a listing.
type Page struct {
	Tasks []Record
	// NextCursor is where the next page starts; "" on the last.
	NextCursor string
}

// The methods below are the one API of the task manager; the HTTP paths
// (http.go) and the gRPC service (grpc.go) are thin codecs over it. Their
// errors are gRPC status errors, which the HTTP side maps onto Exa's.

// Create checks req, and the caller's right to search its collection,
// then stores and queues the task.
func (s *Service) Create(ctx context.Context, c Caller, req CreateRequest) (Record, error) {
	if msg := req.check(); msg != "" {
		return Record{}, status.Error(codes.InvalidArgument, msg)
	}
	if len(req.OutputSchema) > 0 && string(req.OutputSchema) != "null" {
		if _, err := compileSchema(req.OutputSchema); err != nil {
			return Record{}, status.Error(codes.InvalidArgument, err.Error())
		}
	} else {
		req.OutputSchema = nil
	}
	if s.chat == nil {
		return Record{}, status.Error(codes.Unimplemented, "research tasks need a chat model server with tool calls, and this server has none: start cari serve with --answer-url and --answer-model (or CARI_ANSWER_URL and CARI_ANSWER_MODEL) naming an OpenAI-compatible one such as vLLM, llama.cpp or Ollama")
	}
	if s.opts.CheckCollection != nil {
		// Refused now, naming the collection, rather than by every tool
		// call of a task that can never find anything.
		if err := s.opts.CheckCollection(ctx, c.Auth, req.Collection); err != nil {
			return Record{}, err
		}
	}
	return s.add(req, s.owner(c), c.Auth)
}

// check is what is wrong with req, naming the field; "" if nothing.
func (req *CreateRequest) check() string {
	switch {
	case strings.TrimSpace(req.Instructions) == "":
		return "instructions: required, what to research"
	case len([]rune(req.Instructions)) > maxInstructionChars:
		return fmt.Sprintf("instructions: %d characters; at most %d are allowed", len([]rune(req.Instructions)), maxInstructionChars)
	}
	if req.Model == "" {
		req.Model = DefaultModel
	}
	for _, m := range Models {
		if req.Model == m {
			return ""
		}
	}
	return fmt.Sprintf("model: %q is not a research model; use one of %s", req.Model, strings.Join(Models, ", "))
}

// Get returns the caller's task id, with its events.
func (s *Service) Get(c Caller, id string) (Record, error) {
	t, err := s.find(c, id)
	if err != nil {
		return Record{}, err
	}
	return view(t.snapshot(), true), nil
}

// List returns the caller's tasks, newest first, limit (1 to
// maxListLimit; 0: defaultListLimit) from the one after cursor.
func (s *Service) List(c Caller, cursor string, limit int) (Page, error) {
	if limit == 0 {
		limit = defaultListLimit
	}
	if limit < 1 || limit > maxListLimit {
		return Page{}, status.Errorf(codes.InvalidArgument, "limit: %d must be a whole number from 1 to %d", limit, maxListLimit)
	}
	ts := s.list(s.owner(c))
	if cursor != "" {
		i := indexOf(ts, cursor)
		if i < 0 {
			return Page{}, status.Errorf(codes.InvalidArgument, "cursor: %q is not the nextCursor of a listing", cursor)
		}
		ts = ts[i+1:]
	}
	p := Page{Tasks: []Record{}}
	for _, t := range ts[:min(limit, len(ts))] {
		p.Tasks = append(p.Tasks, view(t.snapshot(), false))
	}
	if len(ts) > limit {
		p.NextCursor = ts[limit-1].id
	}
	return p, nil
}

// Cancel cancels the caller's task id if it has not finished: it stops
// at once, canceled; a finished task is returned as it is.
func (s *Service) Cancel(c Caller, id string) (Record, error) {
	t, err := s.find(c, id)
	if err != nil {
		return Record{}, err
	}
	now := s.now()
	rec := s.save(t, func(rec *Record) {
		if !rec.Status.finished() {
			rec.Status, rec.FinishedAt = StatusCanceled, now.UnixMilli()
		}
	})
	t.mu.Lock()
	cancel := t.cancel
	t.mu.Unlock()
	if cancel != nil {
		cancel(errCanceled)
	}
	return view(rec, false), nil
}

// Watch calls send with each of the caller's task id's events, those
// already past first, as they happen, until the task has finished, ctx
// ends or send fails; it returns the task as it last saw it. A task that
// does not exist is found before anything is sent.
func (s *Service) Watch(ctx context.Context, c Caller, id string, send func(Event) error) (Record, error) {
	t, err := s.find(c, id)
	if err != nil {
		return Record{}, err
	}
	sent := 0
	shutdown := s.ctx.Done()
	for {
		rec, changed := t.watch()
		for _, ev := range rec.Events[sent:] {
			if err := send(ev); err != nil {
				return view(rec, false), err
			}
		}
		sent = len(rec.Events)
		if rec.Status.finished() {
			return view(rec, false), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return view(rec, false), ctx.Err()
		case <-shutdown:
			// The server is shutting down: the task's end comes next,
			// unless it is left running for the next start (Resume).
			shutdown = nil
		case <-s.closed:
			if rec := t.snapshot(); !rec.Status.finished() {
				return view(rec, false), status.Error(codes.Unavailable, "the server shut down; the task goes on when it starts again")
			}
		}
	}
}

// find returns the caller's task id, or NOT_FOUND.
func (s *Service) find(c Caller, id string) (*task, error) {
	var t *task
	if validID(id) {
		t = s.lookup(id, s.owner(c))
	}
	if t == nil {
		return nil, status.Errorf(codes.NotFound, "researchId: no research task %q", id)
	}
	return t, nil
}
