// Package chattest is an OpenAI-compatible /v1/chat/completions server on
// loopback for tests: it records every request it gets and answers each
// with the next of a script of turns (a reply, tool calls, an error, a
// stall), so a test can assert the exact requests a caller sends and
// drive it through a conversation with tools.
package chattest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Call is one request the server got.
type Call struct {
	Path, Auth string
	// Body is the request body, decoded.
	Body map[string]any
}

// Messages are the call's messages, decoded.
func (c Call) Messages() []map[string]any {
	var out []map[string]any
	ms, _ := c.Body["messages"].([]any)
	for _, m := range ms {
		out = append(out, m.(map[string]any))
	}
	return out
}

// Server is the chat server.
type Server struct {
	*httptest.Server
	t     testing.TB
	mu    sync.Mutex
	calls []Call
	turns []http.HandlerFunc
	// repeat, when set, answers every call past the script.
	repeat http.HandlerFunc
}

// Start starts a server that answers the n-th call with turns[n]; a call
// past the script fails the test and gets a 500.
func Start(t testing.TB, turns ...http.HandlerFunc) *Server {
	t.Helper()
	s := &Server{t: t, turns: turns}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Repeat answers every call past the script with turn.
func (s *Server) Repeat(turn http.HandlerFunc) *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repeat = turn
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		s.t.Errorf("chat request body is not JSON: %v\n%s", err, b)
	}
	s.mu.Lock()
	n := len(s.calls)
	s.calls = append(s.calls, Call{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body})
	turn := s.repeat
	if n < len(s.turns) {
		turn = s.turns[n]
	}
	s.mu.Unlock()
	if turn == nil {
		s.t.Errorf("chat call %d is past the script of %d turns", n+1, len(s.turns))
		http.Error(w, `{"error":{"message":"no more turns"}}`, http.StatusInternalServerError)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(b)) // for turns that read the request
	turn(w, r)
}

// Calls are the requests so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Reply answers with one chat completion whose message is content.
func Reply(content string) http.HandlerFunc {
	return completion(map[string]any{"role": "assistant", "content": content}, "stop")
}

// ToolCall is one call of a tool in a scripted reply; Arguments is sent
// as written, so a test can send malformed JSON.
type ToolCall struct {
	ID, Name, Arguments string
}

// ToolCalls answers with a message that calls tools, with content beside
// them ("" sends null, as vLLM does).
func ToolCalls(content string, calls ...ToolCall) http.HandlerFunc {
	tcs := make([]map[string]any, len(calls))
	for i, c := range calls {
		tcs[i] = map[string]any{"id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": c.Arguments}}
	}
	msg := map[string]any{"role": "assistant", "content": nil, "tool_calls": tcs}
	if content != "" {
		msg["content"] = content
	}
	return completion(msg, "tool_calls")
}

// completion answers with one choice holding msg, and a usage of 100
// tokens, as vLLM reports it.
func completion(msg map[string]any, finish string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   map[string]any{"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100},
		})
	}
}

// Error answers with status and an OpenAI error body holding message.
func Error(status int, message string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":%q}}`, message)
	}
}

// Stall answers nothing until the request's context ends or release is
// closed, as a model server that hangs.
func Stall(release <-chan struct{}) http.HandlerFunc {
	return func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}
