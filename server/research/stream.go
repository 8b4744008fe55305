package research

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// stream follows t as server-sent events, as Exa's GET
// /research/v1/{id}?stream=true does: each of the task's events, those
// already past first, as "event: <eventType>" and "data: <event JSON>",
// until the task is finished (its research-output event) or the client
// goes. exa-js reads the data line after the event line of each.
func (s *Service) stream(w http.ResponseWriter, r *http.Request, t *task) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "this connection cannot stream")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx would hold the events back
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	sent := 0
	shutdown := s.ctx.Done()
	for {
		rec, changed := t.watch()
		for _, ev := range rec.Events[sent:] {
			data, err := json.Marshal(ev)
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.EventType, data); err != nil {
				return
			}
		}
		sent = len(rec.Events)
		flusher.Flush()
		if rec.Status.finished() {
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-shutdown:
			// The server is shutting down: the task's end comes next.
			shutdown = nil
		}
	}
}
