package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestServeChecksReranker: serve refuses to start on a chat server whose
// answers carry no logprobs (the chat re-ranker's Check), naming why,
// instead of serving first-stage order for every query.
func TestServeChecksReranker(t *testing.T) {
	cariBinary(t)
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"choices": [{"index": 0, "message": {"role": "assistant", "content": "yes"}, "finish_reason": "stop"}]}`))
	}))
	defer chat.Close()
	_, errOut, err := runCariWithin(t, 20*time.Second, "serve", "--data", t.TempDir(), "--grpc-addr", freeLoopbackAddr(t), "--http-addr", "off",
		"--embedder", "none", "--reranker", "chat", "--rerank-url", chat.URL+"/v1")
	if err == nil || !strings.Contains(errOut, "no logprobs") {
		t.Errorf("serve on a chat server without logprobs: %v, want a refusal naming the logprobs\n%s", err, errOut)
	}
}
