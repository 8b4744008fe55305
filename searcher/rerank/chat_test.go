package rerank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cari-search/cari/searcher"
)

// alt is one alternative of the answer token.
type alt struct {
	token   string
	logprob float64
}

// vllmAnswer is a chat completion as vLLM returns it for max_tokens 1 with
// logprobs: the chosen token first, its alternatives in top_logprobs.
func vllmAnswer(alts ...alt) string {
	top := make([]map[string]any, len(alts))
	for i, a := range alts {
		top[i] = map[string]any{"token": a.token, "logprob": a.logprob, "bytes": []byte(a.token)}
	}
	body := map[string]any{
		"id": "chatcmpl-9f2c", "object": "chat.completion", "created": 1767225600, "model": "Qwen/Qwen3-Reranker-0.6B",
		"choices": []map[string]any{{
			"index":   0,
			"message": map[string]any{"role": "assistant", "content": alts[0].token, "reasoning_content": nil, "tool_calls": []any{}},
			"logprobs": map[string]any{"content": []map[string]any{{
				"token": alts[0].token, "logprob": alts[0].logprob, "bytes": []byte(alts[0].token), "top_logprobs": top,
			}}},
			"finish_reason": "length", "stop_reason": nil,
		}},
		"usage": map[string]any{"prompt_tokens": 97, "total_tokens": 98, "completion_tokens": 1},
	}
	b, _ := json.Marshal(body)
	return string(b)
}

// llamacppAnswer is the same as llama.cpp's server returns it: token ids
// beside the tokens, and timings.
func llamacppAnswer(alts ...alt) string {
	top := make([]string, len(alts))
	for i, a := range alts {
		top[i] = fmt.Sprintf(`{"id":%d,"token":%q,"bytes":[],"logprob":%g}`, 9000+i, a.token, a.logprob)
	}
	return fmt.Sprintf(`{"choices":[{"finish_reason":"length","index":0,"message":{"role":"assistant","content":%q},`+
		`"logprobs":{"content":[{"id":9000,"token":%q,"bytes":[],"logprob":%g,"top_logprobs":[%s]}]}}],`+
		`"created":1767225600,"model":"qwen3-reranker-0.6b-q8_0.gguf","system_fingerprint":"b6500","object":"chat.completion",`+
		`"usage":{"completion_tokens":1,"prompt_tokens":97,"total_tokens":98},"id":"chatcmpl-x","timings":{"prompt_n":97,"predicted_n":1}}`,
		alts[0].token, alts[0].token, alts[0].logprob, strings.Join(top, ","))
}

// ollamaAnswer is a chat completion without logprobs, as servers that
// ignore the parameter return it.
func ollamaAnswer(content string) string {
	return fmt.Sprintf(`{"id":"chatcmpl-412","object":"chat.completion","created":1767225600,"model":"qwen3:0.6b","system_fingerprint":"fp_ollama",`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"length"}],`+
		`"usage":{"prompt_tokens":97,"completion_tokens":1,"total_tokens":98}}`, content)
}

// userDocument returns the <Document> part of a pointwise request.
func userDocument(body map[string]any) string {
	msgs, _ := body["messages"].([]any)
	if len(msgs) != 2 {
		return ""
	}
	user, _ := msgs[1].(map[string]any)
	content, _ := user["content"].(string)
	_, doc, _ := strings.Cut(content, "<Document>: ")
	return doc
}

func TestChatSendsQwen3RerankerRequest(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
		if strings.Contains(userDocument(body), "krill") {
			writeJSON(w, 200, vllmAnswer(alt{"yes", -0.05}, alt{"no", -3.0}, alt{"Yes", -6}, alt{"No", -7}, alt{"\n", -9}))
		} else {
			writeJSON(w, 200, vllmAnswer(alt{"no", -0.02}, alt{"yes", -4.0}, alt{"No", -6}, alt{"The", -8}, alt{"\n", -9}))
		}
	})
	s := quick(srv.v1())
	s.Model = "Qwen/Qwen3-Reranker-0.6B"
	s.APIKey = "k"
	c, err := NewChat(ChatOptions{Server: s})
	if err != nil {
		t.Fatal(err)
	}
	cands := []searcher.Candidate{cand("d1", "Oceans", "Tides and currents."), cand("d2", "Whales", "They feed on krill.")}
	scores, err := c.Rerank(context.Background(), "what do whales eat", cands)
	if err != nil {
		t.Fatal(err)
	}
	pYes, pNo := math.Exp(-0.05)+math.Exp(-6), math.Exp(-3.0)+math.Exp(-7)
	want1 := pYes / (pYes + pNo)
	pYes, pNo = math.Exp(-4.0)+0, math.Exp(-0.02)+math.Exp(-6)
	want0 := pYes / (pYes + pNo)
	if math.Abs(scores[0]-want0) > 1e-12 || math.Abs(scores[1]-want1) > 1e-12 {
		t.Errorf("scores %v, want [%v %v]: P(yes)/(P(yes)+P(no)) over every spelling", scores, want0, want1)
	}

	reqs := srv.recorded()
	if len(reqs) != 2 {
		t.Fatalf("%d requests for 2 candidates", len(reqs))
	}
	for _, r := range reqs {
		if r.method != http.MethodPost || r.path != "/v1/chat/completions" || r.contentType != "application/json" || r.auth != "Bearer k" {
			t.Errorf("request %s %s, content type %q, auth %q", r.method, r.path, r.contentType, r.auth)
		}
		if got := keys(r.body); !reflect.DeepEqual(got, []string{"chat_template_kwargs", "logprobs", "max_tokens", "messages", "model", "temperature", "top_logprobs"}) {
			t.Errorf("request fields %v", got)
		}
		if r.body["model"] != "Qwen/Qwen3-Reranker-0.6B" || r.body["max_tokens"] != 1.0 || r.body["temperature"] != 0.0 ||
			r.body["logprobs"] != true || r.body["top_logprobs"] != 5.0 {
			t.Errorf("request %s", r.raw)
		}
		if kw, _ := r.body["chat_template_kwargs"].(map[string]any); !reflect.DeepEqual(kw, map[string]any{"enable_thinking": false}) {
			t.Errorf("chat_template_kwargs = %v", r.body["chat_template_kwargs"])
		}
	}
	// Requests run concurrently: find the one for d2 by its text.
	var msgs []any
	for _, r := range reqs {
		if strings.Contains(userDocument(r.body), "krill") {
			msgs, _ = r.body["messages"].([]any)
		}
	}
	want := []any{
		map[string]any{"role": "system", "content": `Judge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".`},
		map[string]any{"role": "user", "content": "<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n<Query>: what do whales eat\n<Document>: Whales\nThey feed on krill."},
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("messages\n%v\nwant\n%v", msgs, want)
	}
}

func TestChatInstructionAndName(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) {
		writeJSON(w, 200, vllmAnswer(alt{"yes", -0.1}, alt{"no", -2.4}))
	})
	def, _ := NewChat(ChatOptions{Server: quick(srv.v1())})
	c, err := NewChat(ChatOptions{Server: quick(srv.v1()), Instruction: "Given a claim, find papers that support or refute it", AllowThinking: true, TopLogprobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if def.Name() != "chat-pointwise/test-model" || c.Name() == def.Name() || !strings.HasPrefix(c.Name(), "chat-pointwise/test-model#") {
		t.Errorf("names %q and %q: the instruction changes scores, so it must change the cache's name", def.Name(), c.Name())
	}
	if _, err := c.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "p")}); err != nil {
		t.Fatal(err)
	}
	r := srv.recorded()[0]
	user := r.body["messages"].([]any)[1].(map[string]any)["content"].(string)
	if !strings.HasPrefix(user, "<Instruct>: Given a claim, find papers that support or refute it\n<Query>: q\n<Document>: p") {
		t.Errorf("user message %q", user)
	}
	if _, ok := r.body["chat_template_kwargs"]; ok || r.body["top_logprobs"] != 2.0 {
		t.Errorf("AllowThinking still sent chat_template_kwargs, or top_logprobs wrong: %s", r.raw)
	}
}

// TestChatAnswerShapes runs the answers of real servers through the whole
// client.
func TestChatAnswerShapes(t *testing.T) {
	sig := func(yes, no float64) float64 { return yes / (yes + no) }
	for _, tc := range []struct {
		name, answer string
		want         float64
		wantErr      string
	}{
		{name: "vLLM", answer: vllmAnswer(alt{"yes", -0.2}, alt{"no", -1.8}), want: sig(math.Exp(-0.2), math.Exp(-1.8))},
		{name: "llama.cpp", answer: llamacppAnswer(alt{"no", -0.01}, alt{"yes", -4.7}, alt{" no", -8}), want: sig(math.Exp(-4.7), math.Exp(-0.01)+math.Exp(-8))},
		{name: "capitalised, spaced tokens", answer: vllmAnswer(alt{" Yes", -0.3}, alt{"YES", -2}, alt{" No", -2.5}), want: sig(math.Exp(-0.3)+math.Exp(-2), math.Exp(-2.5))},
		{name: "sentencepiece mark", answer: vllmAnswer(alt{"▁yes", -0.1}, alt{"▁no", -2.4}), want: sig(math.Exp(-0.1), math.Exp(-2.4))},
		{
			name:   "no missing from the alternatives",
			answer: vllmAnswer(alt{"yes", -0.01}, alt{"Yes", -5}, alt{"The", -6}),
			// "no" is at most the least listed alternative, e^-6, and
			// at most the mass the listed ones leave.
			want: sig(math.Exp(-0.01)+math.Exp(-5), min(math.Exp(-6), 1-math.Exp(-0.01)-math.Exp(-5)-math.Exp(-6))),
		},
		{name: "only the chosen token listed", answer: vllmAnswer(alt{"no", -0.4}), want: sig(1-math.Exp(-0.4), math.Exp(-0.4))},
		{name: "no logprobs: text yes", answer: ollamaAnswer("Yes"), want: 1},
		{name: "no logprobs: text no", answer: ollamaAnswer("no."), want: 0},
		{name: "alternatives without yes or no fall back to the text", answer: vllmAnswer(alt{"Maybe", -0.1}, alt{"Perhaps", -3}), wantErr: `answer "Maybe" is neither yes nor no`},
		{name: "thinking model", answer: ollamaAnswer("<think>"), wantErr: "thinking model"},
		{name: "malformed JSON", answer: `{"choices":[{"message":`, wantErr: "malformed answer"},
		{name: "no choices", answer: `{"id":"x","choices":[]}`, wantErr: "no choices"},
		{name: "null content, no logprobs", answer: `{"choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"length"}]}`, wantErr: "no content"},
		{name: "positive logprob", answer: vllmAnswer(alt{"yes", 0.5}), wantErr: "not a log-probability"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) { writeJSON(w, 200, tc.answer) })
			c, err := NewChat(ChatOptions{Server: quick(srv.v1())})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "p")})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if n := len(srv.recorded()); n != 1 {
					t.Errorf("%d requests: a malformed answer is not retried", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got[0]-tc.want) > 1e-12 {
				t.Errorf("score %v, want %v", got[0], tc.want)
			}
		})
	}
}

func TestChatWithoutLogprobsWarnsOnce(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
		if strings.Contains(userDocument(body), "good") {
			writeJSON(w, 200, ollamaAnswer("yes"))
		} else {
			writeJSON(w, 200, ollamaAnswer("no"))
		}
	})
	var logs bytes.Buffer
	s := quick(srv.v1())
	s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	c, _ := NewChat(ChatOptions{Server: s})
	scores, err := c.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "bad"), cand("b", "", "good"), cand("c", "", "bad")})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(scores, []float64{0, 1, 0}) {
		t.Errorf("scores %v", scores)
	}
	if n := strings.Count(logs.String(), "no logprobs"); n != 1 {
		t.Errorf("warned %d times, want once: %q", n, logs.String())
	}
	if !strings.Contains(logs.String(), "listwise") {
		t.Errorf("the warning should point to the listwise re-ranker: %q", logs.String())
	}
}

// TestChatConcurrencyCap holds every request until the test releases it:
// with a cap of 3, exactly 3 arrive, and each released one is followed by
// one more, so that 3 are in flight until the last ones, never 4.
func TestChatConcurrencyCap(t *testing.T) {
	const limit, candidates = 3, 12
	var inFlight, peak atomic.Int32
	arrived := make(chan struct{}, candidates)
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any, _ int) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n > limit {
			t.Errorf("%d requests in flight with a cap of %d", n, limit)
		}
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		// Out of flight before the answer frees the client's slot.
		inFlight.Add(-1)
		writeJSON(w, 200, vllmAnswer(alt{"yes", -0.1}, alt{"no", -2.4}))
	})
	// Closed last, so that a failed test frees the held requests.
	defer close(release)
	c, _ := NewChat(ChatOptions{Server: quick(srv.v1()), Concurrency: limit})
	cands := make([]searcher.Candidate, candidates)
	for i := range cands {
		cands[i] = cand(fmt.Sprint(i), "", "p")
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Rerank(context.Background(), "q", cands)
		done <- err
	}()
	arrivals := 0
	await := func() {
		t.Helper()
		select {
		case <-arrived:
			arrivals++
		case err := <-done:
			t.Fatalf("Rerank returned after %d requests: %v", arrivals, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d requests arrived, %d in flight; want %d in flight", arrivals, inFlight.Load(), limit)
		}
	}
	for range limit {
		await()
	}
	// Were the cap broken, one more request would arrive while these are
	// held: give it the time to. A capped client never sends it.
	select {
	case <-arrived:
		t.Fatalf("a request beyond the cap of %d arrived while %d were held", limit, limit)
	case <-time.After(50 * time.Millisecond):
	}
	for released := 0; released < candidates; released++ {
		if n := inFlight.Load(); released < candidates-limit && n != limit {
			t.Errorf("%d requests in flight after %d answers, want %d", n, released, limit)
		}
		release <- struct{}{}
		if arrivals < candidates {
			// The next request, sent once the answer freed a slot.
			await()
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Rerank did not return after every request was answered")
	}
	if p := peak.Load(); p != limit {
		t.Errorf("peak %d requests in flight, want %d", p, limit)
	}
	if n := len(srv.recorded()); n != candidates {
		t.Errorf("%d requests for %d candidates", n, candidates)
	}
}

// TestChatPartialFailure: one candidate's request keeps failing, so the
// whole call fails (the searcher then keeps the first-stage order) and the
// requests not yet sent are never sent.
func TestChatPartialFailure(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
		if strings.Contains(userDocument(body), "poison") {
			writeJSON(w, 400, `{"object":"error","message":"This model's maximum context length is 32768 tokens.","type":"BadRequestError","param":null,"code":400}`)
			return
		}
		time.Sleep(5 * time.Millisecond)
		writeJSON(w, 200, vllmAnswer(alt{"yes", -0.1}, alt{"no", -2.4}))
	})
	c, _ := NewChat(ChatOptions{Server: quick(srv.v1()), Concurrency: 2})
	cands := make([]searcher.Candidate, 40)
	for i := range cands {
		cands[i] = cand(fmt.Sprint(i), "", "p")
	}
	cands[1] = cand("bad", "", "poison")
	_, err := c.Rerank(context.Background(), "q", cands)
	if err == nil || !strings.Contains(err.Error(), "candidate 1 (bad)") || !strings.Contains(err.Error(), "HTTP 400: This model's maximum context length") {
		t.Fatalf("err = %v", err)
	}
	if n := len(srv.recorded()); n > 10 {
		t.Errorf("%d of 40 requests sent after the failure of the second", n)
	}
}

func TestChat5xxThenSuccess(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, n int) {
		switch n {
		case 1:
			writeJSON(w, 500, `{"object":"error","message":"CUDA out of memory","type":"InternalServerError","code":500}`)
		case 2:
			w.Header().Set("Retry-After", "0")
			writeJSON(w, 429, `{"error":{"message":"too many requests"}}`)
		default:
			writeJSON(w, 200, vllmAnswer(alt{"yes", -0.1}, alt{"no", -2.4}))
		}
	})
	c, _ := NewChat(ChatOptions{Server: quick(srv.v1())})
	got, err := c.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "p")})
	if err != nil || got[0] < 0.5 {
		t.Fatalf("Rerank = %v, %v", got, err)
	}
	if n := len(srv.recorded()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	s := quick(srv.v1())
	s.MaxRetries = -1
	srv.calls.Store(0)
	none, _ := NewChat(ChatOptions{Server: s})
	if _, err := none.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "p")}); err == nil || !strings.Contains(err.Error(), "CUDA out of memory") {
		t.Errorf("MaxRetries -1: err = %v, want the first failure", err)
	}
}

// TestChatHonoursDeadline: a server that never answers costs the caller
// its deadline and no more, and the error says it was the deadline. The
// server answers only when the test ends, so Rerank returning at all means
// it gave up at the deadline; the ten seconds are only how long the test
// waits for that, whatever the machine's load.
func TestChatHonoursDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any, _ int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c, _ := NewChat(ChatOptions{Server: quick(srv.v1())})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Rerank(ctx, "q", []searcher.Candidate{cand("a", "", "p"), cand("b", "", "p")})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Rerank still waiting for the server 10s after its 150ms deadline")
	}
}

// TestChatAttemptTimeoutRetried: one attempt that hangs past
// Server.Timeout is abandoned and retried within the caller's deadline.
func TestChatAttemptTimeoutRetried(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any, n int) {
		if n == 1 {
			<-r.Context().Done()
			return
		}
		writeJSON(w, 200, vllmAnswer(alt{"no", -0.1}, alt{"yes", -2.4}))
	})
	s := quick(srv.v1())
	s.Timeout = 50 * time.Millisecond
	c, _ := NewChat(ChatOptions{Server: s})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := c.Rerank(ctx, "q", []searcher.Candidate{cand("a", "", "p")})
	if err != nil || got[0] > 0.5 {
		t.Fatalf("Rerank = %v, %v", got, err)
	}
}

func TestDocumentText(t *testing.T) {
	for _, tc := range []struct {
		c    searcher.Candidate
		want string
	}{
		{cand("a", "Title", "Passage."), "Title\nPassage."},
		{cand("a", "", "Passage."), "Passage."},
		{cand("a", "Passage", "Passage starts with its title."), "Passage starts with its title."},
		{searcher.Candidate{}, ""},
	} {
		tc.c.Document.Text = "full text"
		if tc.c.Passage == "" && tc.c.Document.Title == "" {
			tc.want = "full text"
		}
		if got := documentText(tc.c); got != tc.want {
			t.Errorf("documentText = %q, want %q", got, tc.want)
		}
	}
}

// TestChatCheckRefusesNoLogprobs: Ollama before 0.12.11 answers the
// OpenAI chat endpoint without logprobs whatever was asked (ollama/ollama
// openai/openai.go); Check refuses it at start-up, pointing to the
// listwise re-ranker, and passes a server that returns them.
func TestChatCheckRefusesNoLogprobs(t *testing.T) {
	ollama := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) {
		writeJSON(w, 200, ollamaAnswer("yes"))
	})
	c, err := NewChat(ChatOptions{Server: quick(ollama.v1())})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background()); !errors.Is(err, ErrNoLogprobs) || !strings.Contains(err.Error(), "listwise") || !strings.Contains(err.Error(), "0.12.11") {
		t.Errorf("Check on a server without logprobs: %v", err)
	}
	vllm := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) {
		writeJSON(w, 200, vllmAnswer(alt{"yes", -0.1}, alt{"no", -2.4}))
	})
	c, _ = NewChat(ChatOptions{Server: quick(vllm.v1())})
	if err := c.Check(context.Background()); err != nil {
		t.Errorf("Check on a server with logprobs: %v", err)
	}
}

// TestCheckAtStartUp: Check refuses a chat server without logprobs with
// ErrNoLogprobs, and needs nothing of an in-process re-ranker or none.
func TestCheckAtStartUp(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) {
		writeJSON(w, 200, ollamaAnswer("yes"))
	})
	c, err := NewChat(ChatOptions{Server: quick(srv.v1())})
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(context.Background(), c); !errors.Is(err, ErrNoLogprobs) {
		t.Errorf("Check of a server without logprobs: %v, want ErrNoLogprobs", err)
	}
	learned, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(context.Background(), learned); err != nil {
		t.Errorf("Check of the learned re-ranker: %v", err)
	}
	if err := Check(context.Background(), nil); err != nil {
		t.Errorf("Check of no re-ranker: %v", err)
	}
}
