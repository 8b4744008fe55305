package rerank

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cari-search/cari/searcher"
)

// scoreOf is a test cross-encoder: documents about krill score high.
func scoreOf(doc string) float64 {
	if strings.Contains(doc, "krill") {
		return 0.97
	}
	return 0.01 + float64(len(doc))/1000
}

// cohereAnswer answers a /v1/rerank request as vLLM does: results sorted
// by score, best first, with the usage and id fields around them.
func cohereAnswer(body map[string]any) string {
	docs := body["documents"].([]any)
	type result struct {
		Index    int            `json:"index"`
		Document map[string]any `json:"document"`
		Score    float64        `json:"relevance_score"`
	}
	res := make([]result, len(docs))
	for i, d := range docs {
		res[i] = result{Index: i, Document: map[string]any{"text": nil, "multi_modal": nil}, Score: scoreOf(d.(string))}
	}
	slices.SortFunc(res, func(a, b result) int { return int((b.Score - a.Score) * 1e6) })
	out, _ := json.Marshal(map[string]any{"id": "rerank-7c1", "model": body["model"], "usage": map[string]any{"total_tokens": 211}, "results": res})
	return string(out)
}

// teiAnswer answers TEI's /rerank: a bare array sorted by score.
func teiAnswer(body map[string]any) string {
	texts := body["texts"].([]any)
	parts := make([]string, len(texts))
	for i, d := range texts {
		parts[len(texts)-1-i] = fmt.Sprintf(`{"index":%d,"score":%g}`, i, scoreOf(d.(string)))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestRerankAPISendsCohereRequest(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
		writeJSON(w, 200, cohereAnswer(body))
	})
	s := quick(srv.v1())
	s.Model = "BAAI/bge-reranker-v2-m3"
	s.APIKey = "k"
	r, err := NewRerankAPI(RerankAPIOptions{Server: s})
	if err != nil {
		t.Fatal(err)
	}
	cands := []searcher.Candidate{cand("a", "Tides", "Currents."), cand("b", "Whales", "They eat krill."), cand("c", "", "Reefs.")}
	scores, err := r.Rerank(context.Background(), "what do whales eat", cands)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{scoreOf("Tides\nCurrents."), 0.97, scoreOf("Reefs.")}
	if !reflect.DeepEqual(scores, want) {
		t.Errorf("scores %v, want %v in candidate order", scores, want)
	}
	req := srv.recorded()[0]
	if req.method != http.MethodPost || req.path != "/v1/rerank" || req.auth != "Bearer k" || req.contentType != "application/json" {
		t.Errorf("%s %s auth %q type %q", req.method, req.path, req.auth, req.contentType)
	}
	wantBody := map[string]any{
		"model": "BAAI/bge-reranker-v2-m3", "query": "what do whales eat",
		"documents": []any{"Tides\nCurrents.", "Whales\nThey eat krill.", "Reefs."},
		"top_n":     3.0, "return_documents": false, "truncate_prompt_tokens": -1.0,
	}
	if !reflect.DeepEqual(req.body, wantBody) {
		t.Errorf("body %s", req.raw)
	}
	if r.Name() != "cohere-rerank/BAAI/bge-reranker-v2-m3" {
		t.Errorf("Name %q", r.Name())
	}
}

func TestRerankAPISendsTEIRequest(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
		writeJSON(w, 200, teiAnswer(body))
	})
	r, err := NewRerankAPI(RerankAPIOptions{Server: Server{URL: srv.URL + "/"}, Format: FormatTEI})
	if err != nil {
		t.Fatal(err)
	}
	scores, err := r.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "Reefs."), cand("b", "", "krill")})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(scores, []float64{scoreOf("Reefs."), 0.97}) {
		t.Errorf("scores %v", scores)
	}
	req := srv.recorded()[0]
	wantBody := map[string]any{"query": "q", "texts": []any{"Reefs.", "krill"}, "truncate": true, "raw_scores": false, "return_text": false}
	if req.path != "/rerank" || !reflect.DeepEqual(req.body, wantBody) || req.auth != "" {
		t.Errorf("%s %s auth %q", req.path, req.raw, req.auth)
	}
	if r.Name() != "tei-rerank/"+srv.URL+"/" {
		t.Errorf("Name %q: without a model name the URL names the scores", r.Name())
	}
}

func TestRerankAPIBatches(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
		writeJSON(w, 200, cohereAnswer(body))
	})
	r, _ := NewRerankAPI(RerankAPIOptions{Server: quick(srv.v1()), BatchSize: 32, Concurrency: 2})
	cands := make([]searcher.Candidate, 70)
	want := make([]float64, 70)
	for i := range cands {
		cands[i] = cand(fmt.Sprint(i), "", strings.Repeat("x", i+1))
		want[i] = scoreOf(strings.Repeat("x", i+1))
		if i == 50 {
			cands[i] = cand("k", "", "krill")
			want[i] = 0.97
		}
	}
	scores, err := r.Rerank(context.Background(), "q", cands)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(scores, want) {
		t.Errorf("scores out of place across batches")
	}
	var sizes []int
	for _, req := range srv.recorded() {
		sizes = append(sizes, len(req.body["documents"].([]any)))
		if int(req.body["top_n"].(float64)) != sizes[len(sizes)-1] {
			t.Errorf("top_n %v for %d documents", req.body["top_n"], sizes[len(sizes)-1])
		}
	}
	slices.Sort(sizes)
	if !reflect.DeepEqual(sizes, []int{6, 32, 32}) {
		t.Errorf("batch sizes %v, want 32, 32, 6", sizes)
	}
}

func TestDecodeRerank(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		n          int
		want       []float64
		wantErr    string
	}{
		{name: "cohere", body: `{"results":[{"index":1,"relevance_score":0.9},{"index":0,"relevance_score":0.1}]}`, n: 2, want: []float64{0.1, 0.9}},
		{name: "llama.cpp", body: `{"model":"bge-reranker-v2-m3-Q8_0.gguf","object":"list","usage":{"prompt_tokens":40,"total_tokens":40},"results":[{"index":0,"relevance_score":-2.5},{"index":1,"relevance_score":7.25}]}`, n: 2, want: []float64{-2.5, 7.25}},
		{name: "infinity", body: `{"object":"rerank","results":[{"relevance_score":0.5,"index":0,"document":null}],"model":"mixedbread-ai/mxbai-rerank-xsmall-v1","usage":{"prompt_tokens":9,"total_tokens":9},"id":"infinity-1","created":1767225600}`, n: 1, want: []float64{0.5}},
		{name: "tei", body: ` [{"index":1,"score":0.99},{"index":0,"score":0.02}]`, n: 2, want: []float64{0.02, 0.99}},
		{name: "too few", body: `{"results":[{"index":0,"relevance_score":0.9}]}`, n: 2, wantErr: "1 results for 2 documents"},
		{name: "too many", body: `[{"index":0,"score":1},{"index":1,"score":1},{"index":2,"score":1}]`, n: 2, wantErr: "3 results for 2 documents"},
		{name: "repeated index", body: `{"results":[{"index":0,"relevance_score":0.9},{"index":0,"relevance_score":0.1}]}`, n: 2, wantErr: "index 0 out of range or repeated"},
		{name: "index out of range", body: `{"results":[{"index":0,"relevance_score":0.9},{"index":2,"relevance_score":0.1}]}`, n: 2, wantErr: "index 2 out of range"},
		{name: "negative index", body: `[{"index":-1,"score":0.9}]`, n: 1, wantErr: "index -1 out of range"},
		{name: "no index", body: `{"results":[{"relevance_score":0.9}]}`, n: 1, wantErr: "without an index"},
		{name: "no score", body: `{"results":[{"index":0}]}`, n: 1, wantErr: "no finite score"},
		{name: "string score", body: `{"results":[{"index":0,"relevance_score":"high"}]}`, n: 1, wantErr: "cannot unmarshal"},
		{name: "no results", body: `{"data":[]}`, n: 1, wantErr: `no "results"`},
		{name: "not JSON", body: `<html>502 Bad Gateway</html>`, n: 1, wantErr: "invalid character"},
	} {
		got, err := decodeRerank([]byte(tc.body), tc.n)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestRerankAPIFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		body     string
		requests int
		wantErr  string
	}{
		{"TEI batch too large is not retried", 413, `{"error":"batch size 64 > maximum allowed batch size 32","error_type":"validation"}`, 1, "HTTP 413: batch size 64 > maximum allowed batch size 32"},
		{"TEI backend failure is not retried", 424, `{"error":"Inference failed","error_type":"backend"}`, 1, "HTTP 424: Inference failed"},
		{"5xx retried, then given up", 502, `<html>Bad Gateway</html>`, 3, "HTTP 502: <html>Bad Gateway</html>"},
		{"wrong count is malformed, not retried", 200, `{"results":[]}`, 1, "malformed answer: 0 results for 1 documents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) {
				writeJSON(w, tc.status, tc.body)
			})
			r, _ := NewRerankAPI(RerankAPIOptions{Server: quick(srv.v1())})
			_, err := r.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "p")})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if n := len(srv.recorded()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

func TestRerankAPI429ThenSuccess(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, 429, `{"error":{"message":"Too many requests","type":"rate_limit"}}`)
			return
		}
		writeJSON(w, 200, cohereAnswer(body))
	})
	r, _ := NewRerankAPI(RerankAPIOptions{Server: quick(srv.v1())})
	got, err := r.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "krill")})
	if err != nil || got[0] != 0.97 || len(srv.recorded()) != 2 {
		t.Errorf("Rerank = %v, %v after %d requests", got, err, len(srv.recorded()))
	}
}

// TestRerankAPIQwen3Prompts: vLLM and TEI score the text they are given,
// so for Qwen3-Reranker Cari wraps query and documents in the model card's
// prompt; "none" (llama.cpp, which adds it itself) sends them bare.
func TestRerankAPIQwen3Prompts(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
		writeJSON(w, 200, cohereAnswer(body))
	})
	s := quick(srv.v1())
	s.Model = "Qwen/Qwen3-Reranker-0.6B"
	auto, err := NewRerankAPI(RerankAPIOptions{Server: s})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auto.Rerank(context.Background(), "what do whales eat", []searcher.Candidate{cand("b", "Whales", "They eat krill.")}); err != nil {
		t.Fatal(err)
	}
	body := srv.recorded()[0].body
	wantQuery := "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n" +
		"<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n<Query>: what do whales eat\n"
	wantDoc := "<Document>: Whales\nThey eat krill.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
	if body["query"] != wantQuery || !reflect.DeepEqual(body["documents"], []any{wantDoc}) {
		t.Errorf("query %q\ndocuments %q", body["query"], body["documents"])
	}
	none, _ := NewRerankAPI(RerankAPIOptions{Server: s, Prompts: PromptsNone})
	if _, err := none.Rerank(context.Background(), "q", []searcher.Candidate{cand("b", "", "krill")}); err != nil {
		t.Fatal(err)
	}
	body = srv.recorded()[1].body
	if body["query"] != "q" || !reflect.DeepEqual(body["documents"], []any{"krill"}) {
		t.Errorf("prompts none sent %s", srv.recorded()[1].raw)
	}
	other, _ := NewRerankAPI(RerankAPIOptions{Server: s, Prompts: PromptsQwen3, Instruction: "Find the answer"})
	if auto.Name() == none.Name() || auto.Name() == other.Name() {
		t.Errorf("names %q, %q, %q: prompts and instruction change scores", auto.Name(), none.Name(), other.Name())
	}
	if _, err := NewRerankAPI(RerankAPIOptions{Server: s, Prompts: "e5"}); err == nil {
		t.Error("unknown prompts accepted")
	}
}

// vllmMaxModelLen is the stand-in vLLM's model length, a 512-token
// cross-encoder's, in whitespace-separated words.
const vllmMaxModelLen = 512

// vllmRerank answers /v1/rerank as vLLM does for a cross-encoder of
// vllmMaxModelLen tokens: a query and document longer than that are a 400
// for the whole request ("This model's maximum context length is 512
// tokens..."; vllm-project/vllm vllm/entrypoints/openai/serving_engine.py,
// _validate_input) unless truncate_prompt_tokens asks to cut them (-1:
// to the model's length; vllm/entrypoints/openai/protocol.py,
// RerankRequest).
func vllmRerank(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
	trunc, _ := body["truncate_prompt_tokens"].(float64)
	for _, d := range body["documents"].([]any) {
		n := len(strings.Fields(body["query"].(string))) + len(strings.Fields(d.(string)))
		if n > vllmMaxModelLen && trunc == 0 {
			writeJSON(w, 400, fmt.Sprintf(`{"object":"error","message":"This model's maximum context length is %d tokens. However, you requested %d tokens in the input for rerank. Please reduce the length of the input.","type":"BadRequestError","param":null,"code":400}`, vllmMaxModelLen, n))
			return
		}
	}
	writeJSON(w, 200, cohereAnswer(body))
}

// TestRerankAPILongPassageOnVLLM: a passage longer than a 512-token
// cross-encoder must not fail the batch (and with it the query's
// re-ranking).
func TestRerankAPILongPassageOnVLLM(t *testing.T) {
	srv := serve(t, vllmRerank)
	r, err := NewRerankAPI(RerankAPIOptions{Server: quick(srv.v1())})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("plankton ", 2*vllmMaxModelLen)
	if _, err := r.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", long), cand("b", "", "krill")}); err != nil {
		t.Fatalf("long passage: %v", err)
	}
}

// TestRerankAPIPromptsFollowServedModel: with PromptsAuto the prompt
// convention follows the model the server says it serves, never the
// configured (default) name.
func TestRerankAPIPromptsFollowServedModel(t *testing.T) {
	wrapped := func(srv *modelServer) bool {
		reqs := srv.recorded()
		return strings.HasPrefix(reqs[len(reqs)-1].body["query"].(string), "<|im_start|>")
	}
	for _, tc := range []struct {
		name, format, configured, served string
		qwen3                            bool
	}{
		{"TEI serving bge, default name", FormatTEI, DefaultModel, "BAAI/bge-reranker-v2-m3", false},
		{"TEI without /info, default name", FormatTEI, DefaultModel, "", false},
		{"vLLM serving bge, default name", FormatCohere, DefaultModel, "BAAI/bge-reranker-v2-m3", false},
		{"vLLM serving Qwen3-Reranker under another name", FormatCohere, "reranker", "Qwen/Qwen3-Reranker-0.6B", true},
		{"no /v1/models, Qwen3 named", FormatCohere, "Qwen/Qwen3-Reranker-0.6B", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
				if body["texts"] != nil {
					writeJSON(w, 200, teiAnswer(body))
					return
				}
				writeJSON(w, 200, cohereAnswer(body))
			})
			srv.served = tc.served
			s := quick(srv.v1())
			if tc.format == FormatTEI {
				s = quick(srv.URL)
			}
			s.Model = tc.configured
			r, err := NewRerankAPI(RerankAPIOptions{Server: s, Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "krill")}); err != nil {
				t.Fatal(err)
			}
			if got := wrapped(srv); got != tc.qwen3 {
				t.Errorf("qwen3 prompt %v, want %v", got, tc.qwen3)
			}
			if strings.Contains(r.Name(), "+qwen3") != tc.qwen3 {
				t.Errorf("Name %q does not say the prompts", r.Name())
			}
		})
	}
}

// TestTEITextsInFlightPerServer: TEI takes a permit per text and answers
// 429 when its --max-concurrent-requests are spent
// (huggingface/text-embeddings-inference router/src/http/server.rs,
// "Model is overloaded"); the stand-in holds that many permits, and
// concurrent queries through one re-ranker must stay within them.
func TestTEITextsInFlightPerServer(t *testing.T) {
	const permits = 64
	var inFlight atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
		n := int32(len(body["texts"].([]any)))
		if inFlight.Add(n) > permits {
			inFlight.Add(-n)
			writeJSON(w, 429, `{"error":"Model is overloaded","error_type":"overloaded"}`)
			return
		}
		defer inFlight.Add(-n)
		time.Sleep(5 * time.Millisecond)
		writeJSON(w, 200, teiAnswer(body))
	})
	s := quick(srv.URL)
	s.MaxRetries = -1
	r, err := NewRerankAPI(RerankAPIOptions{Server: s, Format: FormatTEI, MaxTextsInFlight: permits})
	if err != nil {
		t.Fatal(err)
	}
	cands := make([]searcher.Candidate, 64)
	for i := range cands {
		cands[i] = cand(fmt.Sprint(i), "", "passage")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := r.Rerank(context.Background(), "q", cands)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent query: %v", err)
		}
	}
}
