package research

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Path is where the Research API is mounted: Exa's /research/v1; and
// under CollectionPrefix for the tasks that search one collection, so
// that an SDK whose base URL is http://host:7701/c/docs researches docs.
const Path = "/research/v1"

// CollectionPrefix is the prefix of the paths of one collection, as on
// Exa's endpoints (server/exa): its tools post to /c/{collection}/search.
const CollectionPrefix = "/c/{collection}"

// Models are the research models Exa names; Cari runs each on the
// operator's chat model, and echoes the one asked for.
var Models = []string{"exa-research-fast", "exa-research", "exa-research-pro"}

// DefaultModel is the model of a task that names none, as in Exa's spec.
const DefaultModel = "exa-research"

// List page sizes, as in Exa's spec.
const (
	defaultListLimit = 10
	maxListLimit     = 50
)

// Handler serves the Research API under Path:
//
//	POST /research/v1                      create a task (201, status pending)
//	GET  /research/v1?cursor=&limit=       list tasks, newest first
//	GET  /research/v1/{id}?events=&stream= get a task; stream=true follows it as SSE
//	POST /research/v1/{id}/cancel          cancel a task (a Cari extension)
//
// Mount it behind the server's key check: it checks no keys itself, and
// its tools call Exa's endpoints with the creating request's credentials.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, prefix := range []string{"", CollectionPrefix} {
		mux.HandleFunc("POST "+prefix+Path, s.create)
		mux.HandleFunc("GET "+prefix+Path, s.listHandler)
		mux.HandleFunc("GET "+prefix+Path+"/{researchId}", s.get)
		mux.HandleFunc("POST "+prefix+Path+"/{researchId}/cancel", s.cancelHandler)
	}
	return mux
}

// createRequest is Exa's ResearchCreateRequestDtoClass.
type createRequest struct {
	Instructions string          `json:"instructions"`
	Model        string          `json:"model"`
	OutputSchema json.RawMessage `json:"outputSchema"`
}

// maxInstructionChars is the length Exa's spec allows instructions.
const maxInstructionChars = 4096

func (s *Service) create(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", fmt.Sprintf("request body is over %d bytes", s.opts.MaxBodyBytes))
		return
	}
	var req createRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST_BODY", "request body: "+err.Error())
		return
	}
	if msg := req.check(); msg != "" {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST_BODY", msg)
		return
	}
	if len(req.OutputSchema) > 0 && string(req.OutputSchema) != "null" {
		if _, err := compileSchema(req.OutputSchema); err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_REQUEST_BODY", err.Error())
			return
		}
	} else {
		req.OutputSchema = nil
	}
	if s.chat == nil {
		writeError(w, http.StatusNotImplemented, "NOT_IMPLEMENTED", "research tasks need a chat model server with tool calls, and this server has none: start cari serve with --answer-url and --answer-model (or CARI_ANSWER_URL and CARI_ANSWER_MODEL) naming an OpenAI-compatible one such as vLLM, llama.cpp or Ollama")
		return
	}
	rec, err := s.add(req, r.PathValue("collection"), s.owner(r), credentials(r))
	if err != nil {
		writeError(w, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, view(rec, false))
}

// check is what is wrong with req, naming the field; "" if nothing.
func (req *createRequest) check() string {
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

// credentials are the headers of r that the tools' calls carry, and the
// client's address.
func credentials(r *http.Request) map[string]string {
	auth := map[string]string{remoteAddrKey: r.RemoteAddr}
	for _, k := range []string{"X-Api-Key", "Authorization"} {
		if v := r.Header.Get(k); v != "" {
			auth[k] = v
		}
	}
	return auth
}

// add stores a new task and queues it.
func (s *Service) add(req createRequest, collection, owner string, auth map[string]string) (Record, error) {
	s.mu.Lock()
	if s.pending >= s.opts.MaxPending {
		s.mu.Unlock()
		return Record{}, fmt.Errorf("%d research tasks are waiting to run, the most this server queues; try again later", s.opts.MaxPending)
	}
	s.pending++
	now := s.now()
	rec := Record{ResearchID: newResearchID(now), CreatedAt: now.UnixMilli(), Model: req.Model, Instructions: req.Instructions,
		OutputSchema: req.OutputSchema, Status: StatusPending, Collection: collection, Owner: owner}
	rec.Events = []Event{{EventType: eventDefinition, ResearchID: rec.ResearchID, CreatedAt: rec.CreatedAt,
		Instructions: rec.Instructions, OutputSchema: rec.OutputSchema}}
	t := newTask(rec)
	t.auth = auth
	s.tasks[rec.ResearchID] = t
	s.mu.Unlock()
	if err := s.store.save(rec); err != nil {
		s.log.Error("storing research task", "research_id", rec.ResearchID, "error", err)
	}
	s.start(t)
	return rec, nil
}

// view is rec as a response: events only when asked for, and never the
// agent's state.
func view(rec Record, events bool) Record {
	if !events {
		rec.Events = nil
	}
	rec.State, rec.Owner = nil, ""
	return rec
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	t := s.find(w, r)
	if t == nil {
		return
	}
	q := r.URL.Query()
	events := q.Get("events") == "true"
	if q.Get("stream") == "true" {
		s.stream(w, r, t)
		return
	}
	writeJSON(w, http.StatusOK, view(t.snapshot(), events))
}

// find returns the task the path names, or writes a 404.
func (s *Service) find(w http.ResponseWriter, r *http.Request) *task {
	id := r.PathValue("researchId")
	var t *task
	if validID(id) {
		t = s.lookup(id, s.owner(r))
	}
	if t == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("researchId: no research task %q", id))
	}
	return t
}

// listResponse is Exa's ListResearchResponseDto.
type listResponse struct {
	Data       []Record `json:"data"`
	HasMore    bool     `json:"hasMore"`
	NextCursor *string  `json:"nextCursor"`
}

func (s *Service) listHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			writeError(w, http.StatusBadRequest, "INVALID_REQUEST_BODY", fmt.Sprintf("limit: %q must be a whole number from 1 to %d", v, maxListLimit))
			return
		}
		limit = n
	}
	ts := s.list(s.owner(r))
	if cursor := q.Get("cursor"); cursor != "" {
		i := indexOf(ts, cursor)
		if i < 0 {
			writeError(w, http.StatusBadRequest, "INVALID_REQUEST_BODY", fmt.Sprintf("cursor: %q is not the nextCursor of a listing", cursor))
			return
		}
		ts = ts[i+1:]
	}
	resp := listResponse{Data: []Record{}}
	for _, t := range ts[:min(limit, len(ts))] {
		resp.Data = append(resp.Data, view(t.snapshot(), false))
	}
	if len(ts) > limit {
		next := ts[limit-1].id
		resp.HasMore, resp.NextCursor = true, &next
	}
	writeJSON(w, http.StatusOK, resp)
}

// indexOf is the position of the task with id in ts, or -1.
func indexOf(ts []*task, id string) int {
	for i, t := range ts {
		if t.id == id {
			return i
		}
	}
	return -1
}

// cancelHandler cancels a task that has not finished: it stops at once,
// canceled; a finished task is answered as it is.
func (s *Service) cancelHandler(w http.ResponseWriter, r *http.Request) {
	t := s.find(w, r)
	if t == nil {
		return
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
	writeJSON(w, http.StatusOK, view(rec, false))
}

// exaError is Exa's error body, which its SDKs show.
type exaError struct {
	RequestID string `json:"requestId"`
	Error     string `json:"error"`
	Tag       string `json:"tag"`
}

func writeError(w http.ResponseWriter, code int, tag, msg string) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	writeJSON(w, code, exaError{RequestID: hex.EncodeToString(b[:]), Error: msg, Tag: tag})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
