package research

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cari-search/cari/internal/atomicfile"
)

// Status is where a task is in its life, in Exa's words.
type Status string

// A task is pending until a slot of Options.MaxConcurrent frees, running
// while its agent works, and then completed, failed or canceled for good.
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
	StatusCanceled  Status = "canceled"
)

// finished says whether s is final.
func (s Status) finished() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCanceled
}

// Record is a task as Exa's GET /research/v1/{researchId} answers it
// (ResearchDtoClass), and as it is stored: one JSON file per task.
type Record struct {
	ResearchID   string          `json:"researchId"`
	CreatedAt    int64           `json:"createdAt"`
	Model        string          `json:"model"`
	Instructions string          `json:"instructions"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	Status       Status          `json:"status"`
	// Collection is the collection (or alias) the task searches, from
	// the path it was created on (/c/{collection}/research/v1); "" is
	// default. A Cari extension.
	Collection  string  `json:"collection,omitempty"`
	Events      []Event `json:"events,omitempty"`
	Output      *Output `json:"output,omitempty"`
	CostDollars *Cost   `json:"costDollars,omitempty"`
	FinishedAt  int64   `json:"finishedAt,omitempty"`
	Error       string  `json:"error,omitempty"`
	// Owner names who created the task (Options.Owner: the API key's
	// name, never its secret); only the same owner sees it. Never
	// answered.
	Owner string `json:"owner,omitempty"`
	// State is the agent's conversation so far, stored so that a server
	// that resumes tasks (Options.Resume) goes on from the last step after
	// a restart; dropped when the task ends, and never answered.
	State *agentState `json:"state,omitempty"`
}

// Output is a completed task's result: the report in Markdown, or the
// JSON object as text in Content and parsed in Parsed.
type Output struct {
	Content string          `json:"content"`
	Parsed  json.RawMessage `json:"parsed,omitempty"`
	// Citations are the documents the output rests on: those the report
	// cites, or those the agent read for a JSON object. A Cari extension;
	// Exa's clients ignore it.
	Citations []Citation `json:"citations,omitempty"`
}

// Citation is one document an output cites, by its number in the report.
type Citation struct {
	Number int    `json:"number"`
	ID     string `json:"id"`
	URL    string `json:"url"`
	Title  string `json:"title"`
}

// Cost is Exa's costDollars: a self-hosted model costs nothing per call,
// so Total is 0 and the counts say what the task did.
type Cost struct {
	Total           float64 `json:"total"`
	NumSearches     int     `json:"numSearches"`
	NumPages        int     `json:"numPages"`
	ReasoningTokens int     `json:"reasoningTokens"`
}

// Event is one of Exa's ResearchEventDtoClass: what the task did, in the
// order it did it. Fields beside EventType depend on it.
type Event struct {
	EventType    string          `json:"eventType"`
	ResearchID   string          `json:"researchId"`
	CreatedAt    int64           `json:"createdAt"`
	Instructions string          `json:"instructions,omitempty"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	PlanID       string          `json:"planId,omitempty"`
	OperationID  string          `json:"operationId,omitempty"`
	Data         *Operation      `json:"data,omitempty"`
	Output       *EventOutput    `json:"output,omitempty"`
}

// Event types of a task's run.
const (
	eventDefinition    = "research-definition"
	eventOutput        = "research-output"
	eventPlanDef       = "plan-definition"
	eventPlanOperation = "plan-operation"
	eventPlanOutput    = "plan-output"
)

// Operation is one step of the agent (ResearchOperationDtoClass): a
// thought, a search or a page read ("crawl").
type Operation struct {
	Type       string   `json:"type"`
	Content    string   `json:"content,omitempty"`
	SearchType string   `json:"searchType,omitempty"`
	Goal       string   `json:"goal,omitempty"`
	Query      string   `json:"query,omitempty"`
	Results    []URLRef `json:"results,omitempty"`
	Result     *URLRef  `json:"result,omitempty"`
	// PageTokens is required for a search and a crawl, so it is a
	// pointer: present (0 too) on those, absent on a thought.
	PageTokens *int `json:"pageTokens,omitempty"`
}

// URLRef is a page an operation found or read.
type URLRef struct {
	URL string `json:"url"`
}

// EventOutput is the output of a plan-output or research-output event.
type EventOutput struct {
	OutputType  string          `json:"outputType"`
	Reasoning   string          `json:"reasoning,omitempty"`
	Content     string          `json:"content,omitempty"`
	Parsed      json.RawMessage `json:"parsed,omitempty"`
	CostDollars *Cost           `json:"costDollars,omitempty"`
	Error       string          `json:"error,omitempty"`
}

// task is a Record with what the running server keeps beside it.
type task struct {
	// id, createdAt and owner are the record's, which never change, for
	// reading without the lock.
	id        string
	createdAt int64
	owner     string

	mu  sync.Mutex
	rec Record
	// changed is closed, and replaced, whenever rec changes, waking the
	// streams that follow the task.
	changed chan struct{}
	// cancel stops the agent, with its cause; nil until it runs.
	cancel func(error)
	// auth are the creating request's credentials, which the tool calls
	// carry so that the server's guard checks and limits them as it would
	// the caller's own searches. They stay in memory, never on disk.
	auth map[string]string
}

func newTask(rec Record) *task {
	return &task{id: rec.ResearchID, createdAt: rec.CreatedAt, owner: rec.Owner, rec: rec, changed: make(chan struct{})}
}

// snapshot is a copy of the record, safe to encode while the task runs.
func (t *task) snapshot() Record {
	rec, _ := t.watch()
	return rec
}

// update changes the record under the lock and wakes the streams.
func (t *task) update(f func(*Record)) Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.rec)
	close(t.changed)
	t.changed = make(chan struct{})
	return t.copyLocked()
}

// watch returns the record and a channel closed at its next change.
func (t *task) watch() (Record, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.copyLocked(), t.changed
}

// copyLocked is a copy of the record whose events the task's later
// changes do not touch. t.mu is held.
func (t *task) copyLocked() Record {
	rec := t.rec
	rec.Events = append([]Event(nil), t.rec.Events...)
	return rec
}

// newResearchID is a task's ID: the creation time in milliseconds, so
// that IDs sort as tasks were made, then 8 random bytes.
func newResearchID(now time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("r%012x%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

// validID accepts the IDs newResearchID makes, and nothing that could
// name another file.
func validID(id string) bool {
	if len(id) < 2 || len(id) > 64 || id[0] != 'r' {
		return false
	}
	for _, c := range id[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// taskStore keeps each task in its own JSON file in dir, replaced whole
// (atomicfile) on every change, so that a crash leaves the last state.
type taskStore struct{ dir string }

func (s taskStore) path(id string) string { return filepath.Join(s.dir, id+".json") }

// save writes rec.
func (s taskStore) save(rec Record) error {
	return atomicfile.Write(s.path(rec.ResearchID), 0o600, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(rec)
	})
}

// load reads every task in dir, which it creates if need be. A file that
// cannot be read or decoded is left as it is and reported in skipped, so
// that one damaged task neither stops the server nor is lost.
func (s taskStore) load() (recs []Record, skipped []error, err error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("research tasks directory: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("research tasks directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		id := strings.TrimSuffix(name, ".json")
		if e.IsDir() || !strings.HasSuffix(name, ".json") || !validID(id) {
			continue // temporary files of an interrupted write, and strangers
		}
		path := filepath.Join(s.dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil || rec.ResearchID != id {
			skipped = append(skipped, fmt.Errorf("%s: not a research task (%v); left as it is", path, err))
			continue
		}
		recs = append(recs, rec)
	}
	return recs, skipped, nil
}
