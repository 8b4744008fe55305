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

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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

// maxInstructionChars is the length Exa's spec allows instructions.
const maxInstructionChars = 4096

func (s *Service) create(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", fmt.Sprintf("request body is over %d bytes", s.opts.MaxBodyBytes))
		return
	}
	var req CreateRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST_BODY", "request body: "+err.Error())
		return
	}
	req.Collection = r.PathValue("collection")
	rec, err := s.Create(r.Context(), callerOf(r), req)
	if err != nil {
		writeStatus(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, view(rec, false))
}

// callerOf is the caller of r: the headers of r that the tools' calls
// carry, and the client's address.
func callerOf(r *http.Request) Caller {
	auth := map[string]string{RemoteAddrKey: r.RemoteAddr}
	for _, k := range []string{"X-Api-Key", "Authorization"} {
		if v := r.Header.Get(k); v != "" {
			auth[k] = v
		}
	}
	return Caller{Auth: auth}
}

// add stores a new task and queues it.
func (s *Service) add(req CreateRequest, owner string, auth map[string]string) (Record, error) {
	s.mu.Lock()
	if s.pending >= s.opts.MaxPending {
		s.mu.Unlock()
		return Record{}, status.Errorf(codes.ResourceExhausted, "%d research tasks are waiting to run, the most this server queues; try again later", s.opts.MaxPending)
	}
	s.pending++
	now := s.now()
	rec := Record{ResearchID: newResearchID(now), CreatedAt: now.UnixMilli(), Model: req.Model, Instructions: req.Instructions,
		OutputSchema: req.OutputSchema, Status: StatusPending, Collection: req.Collection, Owner: owner}
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
	c, id := callerOf(r), r.PathValue("researchId")
	q := r.URL.Query()
	if q.Get("stream") == "true" {
		s.stream(w, r, c, id)
		return
	}
	rec, err := s.Get(c, id)
	if err != nil {
		writeStatus(w, err)
		return
	}
	writeJSON(w, http.StatusOK, view(rec, q.Get("events") == "true"))
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
	p, err := s.List(callerOf(r), q.Get("cursor"), limit)
	if err != nil {
		writeStatus(w, err)
		return
	}
	resp := listResponse{Data: p.Tasks}
	if p.NextCursor != "" {
		resp.HasMore, resp.NextCursor = true, &p.NextCursor
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

// cancelHandler cancels a task (Service.Cancel).
func (s *Service) cancelHandler(w http.ResponseWriter, r *http.Request) {
	rec, err := s.Cancel(callerOf(r), r.PathValue("researchId"))
	if err != nil {
		writeStatus(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// exaError is Exa's error body, which its SDKs show.
type exaError struct {
	RequestID string `json:"requestId"`
	Error     string `json:"error"`
	Tag       string `json:"tag"`
}

// exaTags are Exa's error tags and HTTP statuses for the manager's
// status codes.
var exaTags = map[codes.Code]struct {
	http int
	tag  string
}{
	codes.InvalidArgument:   {http.StatusBadRequest, "INVALID_REQUEST_BODY"},
	codes.NotFound:          {http.StatusNotFound, "NOT_FOUND"},
	codes.PermissionDenied:  {http.StatusForbidden, "FORBIDDEN"},
	codes.Unauthenticated:   {http.StatusUnauthorized, "UNAUTHORIZED"},
	codes.ResourceExhausted: {http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED"},
	codes.Unimplemented:     {http.StatusNotImplemented, "NOT_IMPLEMENTED"},
}

// writeStatus writes err, a status error of the manager, as Exa's error.
func writeStatus(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	e, ok := exaTags[st.Code()]
	if !ok {
		e.http, e.tag = http.StatusInternalServerError, "INTERNAL_ERROR"
	}
	writeError(w, e.http, e.tag, st.Message())
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
