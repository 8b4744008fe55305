package research

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// stream follows the caller's task id as server-sent events, as Exa's GET
// /research/v1/{id}?stream=true does: each of the task's events, those
// already past first, as "event: <eventType>" and "data: <event JSON>",
// until the task is finished (its research-output event) or the client
// goes. exa-js reads the data line after the event line of each.
func (s *Service) stream(w http.ResponseWriter, r *http.Request, c Caller, id string) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "this connection cannot stream")
		return
	}
	if _, err := s.find(c, id); err != nil {
		writeStatus(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx would hold the events back
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	_, _ = s.Watch(r.Context(), c, id, func(ev Event) error {
		data, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.EventType, data); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	})
}
