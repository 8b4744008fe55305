package rerank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/cari-search/cari/searcher"
)

// Request shapes of a rerank API.
const (
	// FormatCohere is the Cohere and Jina request that vLLM, llama.cpp's
	// server and Infinity take at /v1/rerank: {"model", "query",
	// "documents", "top_n", "return_documents"}.
	FormatCohere = "cohere"
	// FormatTEI is Hugging Face TEI's own request at /rerank: {"query",
	// "texts", "truncate", "raw_scores", "return_text"}.
	FormatTEI = "tei"
)

// Prompt conventions of a rerank API's inputs.
const (
	// PromptsAuto picks PromptsQwen3 when the model the server serves is
	// a Qwen3-Reranker, else PromptsNone. The server is asked (Probe):
	// a default model name must never pick the prompt of another model.
	PromptsAuto = "auto"
	// PromptsNone sends the query and documents as they are, as
	// cross-encoders such as bge-reranker expect.
	PromptsNone = "none"
	// PromptsQwen3 wraps them in Qwen3-Reranker's prompt, which vLLM and
	// TEI do not add themselves (llama.cpp does, from the GGUF's rerank
	// template: use PromptsNone there).
	PromptsQwen3 = "qwen3"
)

// Qwen3-Reranker's prompt split around the query and the document, as its
// model card feeds it to a score API.
const (
	qwen3Prefix = "<|im_start|>system\n" + pointwiseSystem + "<|im_end|>\n<|im_start|>user\n"
	qwen3Suffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
)

// DefaultRerankBatch keeps a request within TEI's default
// --max-client-batch-size (32).
const DefaultRerankBatch = 32

// DefaultTEITextsInFlight bounds the texts one process has at a TEI server
// at once: TEI takes a permit per text from --max-concurrent-requests (512
// by default) and answers 429 when none is left
// (huggingface/text-embeddings-inference router/src/http/server.rs), so
// two replicas at 256 each stay within it.
const DefaultTEITextsInFlight = 256

// RerankAPIOptions configure a rerank API client.
type RerankAPIOptions struct {
	Server
	// Format is FormatCohere (default) or FormatTEI. With FormatTEI,
	// Server.URL is TEI's root (no /v1) and Model only names the scores
	// in the cache.
	Format string
	// Prompts is PromptsAuto (default), PromptsNone or PromptsQwen3;
	// Instruction fills Qwen3's <Instruct> line (default
	// DefaultInstruction).
	Prompts     string
	Instruction string
	// BatchSize caps the documents of one request (default
	// DefaultRerankBatch); Concurrency the requests in flight for one
	// query (default DefaultConcurrency).
	BatchSize   int
	Concurrency int
	// MaxTextsInFlight bounds the documents in requests in flight at the
	// server from this re-ranker, across all queries (default
	// DefaultTEITextsInFlight for FormatTEI, no bound for FormatCohere;
	// negative: no bound).
	MaxTextsInFlight int
}

// RerankAPI scores candidates with a cross-encoder (Qwen3-Reranker,
// bge-reranker, Jina) behind a rerank endpoint: POST {URL}/rerank. It
// reads both answer shapes, {"results": [{"index", "relevance_score"}]}
// and TEI's bare [{"index", "score"}], and checks that every document got
// exactly one finite score.
type RerankAPI struct {
	opts   RerankAPIOptions
	client *client
	// texts holds a unit per document in flight; nil is no bound.
	texts *semaphore.Weighted

	mu sync.Mutex
	// prompts is opts.Prompts once known: PromptsAuto until Probe.
	prompts string
	name    string
}

// NewRerankAPI checks opts and returns a re-ranker; it sends nothing.
func NewRerankAPI(opts RerankAPIOptions) (*RerankAPI, error) {
	if opts.Format == "" {
		opts.Format = FormatCohere
	}
	if opts.Format != FormatCohere && opts.Format != FormatTEI {
		return nil, fmt.Errorf("rerank API: format must be %s or %s, got %q", FormatCohere, FormatTEI, opts.Format)
	}
	if err := opts.check("rerank API", opts.Format == FormatCohere); err != nil {
		return nil, err
	}
	switch opts.Prompts {
	case "":
		opts.Prompts = PromptsAuto
	case PromptsAuto, PromptsNone, PromptsQwen3:
	default:
		return nil, fmt.Errorf("rerank API: prompts must be %s, %s or %s, got %q", PromptsAuto, PromptsNone, PromptsQwen3, opts.Prompts)
	}
	if opts.Instruction == "" {
		opts.Instruction = DefaultInstruction
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultRerankBatch
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.MaxTextsInFlight == 0 && opts.Format == FormatTEI {
		opts.MaxTextsInFlight = DefaultTEITextsInFlight
	}
	r := &RerankAPI{opts: opts, client: newClient(opts.Server)}
	r.opts.Server = r.client.srv
	if opts.MaxTextsInFlight > 0 {
		r.texts = semaphore.NewWeighted(int64(opts.MaxTextsInFlight))
	}
	r.setPrompts(opts.Prompts)
	return r, nil
}

// setPrompts fixes the prompt convention and the name that goes with it.
func (r *RerankAPI) setPrompts(prompts string) {
	model := r.opts.Model
	if model == "" {
		model = r.opts.URL
	}
	name := r.opts.Format + "-rerank/" + model
	if prompts == PromptsQwen3 {
		name += "+qwen3#" + shortHash(r.opts.Instruction)
	}
	r.mu.Lock()
	r.prompts, r.name = prompts, name
	r.mu.Unlock()
}

// currentPrompts is the prompt convention, PromptsAuto until Probe.
func (r *RerankAPI) currentPrompts() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.prompts
}

// Probe settles PromptsAuto from the model the server says it serves:
// TEI's GET /info (model_id), or GET {URL}/models (vLLM, llama.cpp,
// Infinity), the entry named Model or the only one. A server that cannot
// say leaves Model's name for FormatCohere, which sends it with every
// request (so it names the served model), and no prompt for TEI, which
// ignores it. Rerank probes on first use; a caller probes at start-up to
// log the choice before the first query. The answer is PromptsNone or
// PromptsQwen3.
func (r *RerankAPI) Probe(ctx context.Context) (prompts string, err error) {
	if p := r.currentPrompts(); p != PromptsAuto {
		return p, nil
	}
	served, err := r.servedModel(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		r.opts.Logger.Warn("the re-ranking server did not say which model it serves; choosing prompts from the configured name", "err", err, "model", r.opts.Model)
		served = r.opts.Model
		if r.opts.Format == FormatTEI {
			served = ""
		}
	}
	prompts = PromptsNone
	if strings.Contains(strings.ToLower(served), "qwen3-reranker") {
		prompts = PromptsQwen3
	}
	r.setPrompts(prompts)
	r.opts.Logger.Info("re-ranker prompts follow the served model", "served", served, "prompts", prompts)
	return prompts, nil
}

// Check is the start-up step: Probe, for the log line that says which
// prompts the served model gets.
func (r *RerankAPI) Check(ctx context.Context) error {
	_, err := r.Probe(ctx)
	return err
}

// servedModel asks the server for the model it serves.
func (r *RerankAPI) servedModel(ctx context.Context) (string, error) {
	if r.opts.Format == FormatTEI {
		var info struct {
			ModelID string `json:"model_id"`
		}
		err := r.client.get(ctx, "/info", func(b []byte) error { return json.Unmarshal(b, &info) })
		if err == nil && info.ModelID == "" {
			err = errors.New("/info names no model_id")
		}
		return info.ModelID, err
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := r.client.get(ctx, "/models", func(b []byte) error { return json.Unmarshal(b, &list) }); err != nil {
		return "", err
	}
	for _, m := range list.Data {
		if m.ID == r.opts.Model {
			return m.ID, nil
		}
	}
	if len(list.Data) == 1 {
		return list.Data[0].ID, nil
	}
	return "", fmt.Errorf("/models lists %d models, none named %q", len(list.Data), r.opts.Model)
}

// query is the query as the model reads it under prompts.
func (r *RerankAPI) query(q, prompts string) string {
	if prompts != PromptsQwen3 {
		return q
	}
	return qwen3Prefix + "<Instruct>: " + r.opts.Instruction + "\n<Query>: " + q + "\n"
}

// document is a candidate as the model reads it under prompts.
func (r *RerankAPI) document(c searcher.Candidate, prompts string) string {
	if prompts != PromptsQwen3 {
		return documentText(c)
	}
	return "<Document>: " + documentText(c) + qwen3Suffix
}

// Name identifies the model and its prompts, for the score cache; under
// PromptsAuto it changes once, at Probe.
func (r *RerankAPI) Name() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.name
}

// String is the name, so that printing a re-ranker shows no API key.
func (r *RerankAPI) String() string { return r.Name() }

// Rerank scores the candidates in batches of BatchSize, Concurrency at a
// time. Scores of a cross-encoder do not depend on the batch.
func (r *RerankAPI) Rerank(ctx context.Context, query string, cands []searcher.Candidate) ([]float64, error) {
	prompts, err := r.Probe(ctx)
	if err != nil {
		return nil, err
	}
	scores := make([]float64, len(cands))
	size := r.opts.BatchSize
	batches := (len(cands) + size - 1) / size
	err = forEach(ctx, batches, r.opts.Concurrency, func(ctx context.Context, b int) error {
		start, end := b*size, min(len(cands), (b+1)*size)
		docs := make([]string, end-start)
		for k := range docs {
			docs[k] = r.document(cands[start+k], prompts)
		}
		release, err := r.acquire(ctx, len(docs))
		if err != nil {
			return err
		}
		defer release()
		got, err := r.score(ctx, r.query(query, prompts), docs)
		if err != nil {
			return fmt.Errorf("rerank API, candidates %d-%d: %w", start+1, end, err)
		}
		copy(scores[start:end], got)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return scores, nil
}

// acquire waits until n more texts may be in flight at the server.
func (r *RerankAPI) acquire(ctx context.Context, n int) (release func(), err error) {
	if r.texts == nil {
		return func() {}, nil
	}
	w := int64(min(n, r.opts.MaxTextsInFlight))
	if err := r.texts.Acquire(ctx, w); err != nil {
		return nil, err
	}
	return func() { r.texts.Release(w) }, nil
}

// cohereRequest is the body of POST /v1/rerank.
type cohereRequest struct {
	Model           string   `json:"model"`
	Query           string   `json:"query"`
	Documents       []string `json:"documents"`
	TopN            int      `json:"top_n"`
	ReturnDocuments bool     `json:"return_documents"`
	// TruncatePromptTokens -1 has vLLM cut each pair to the model's
	// length rather than answer 400 for the whole batch (a 512-token
	// cross-encoder and a long passage); llama.cpp and Infinity ignore it.
	TruncatePromptTokens int `json:"truncate_prompt_tokens,omitempty"`
}

// teiRequest is the body of TEI's POST /rerank.
type teiRequest struct {
	Query      string   `json:"query"`
	Texts      []string `json:"texts"`
	Truncate   bool     `json:"truncate"`
	RawScores  bool     `json:"raw_scores"`
	ReturnText bool     `json:"return_text"`
}

// rerankResult is one scored document in either answer shape.
type rerankResult struct {
	Index          *int     `json:"index"`
	RelevanceScore *float64 `json:"relevance_score"`
	Score          *float64 `json:"score"`
}

// score sends one batch and returns its scores in document order.
func (r *RerankAPI) score(ctx context.Context, query string, docs []string) ([]float64, error) {
	var body any = cohereRequest{Model: r.opts.Model, Query: query, Documents: docs, TopN: len(docs), TruncatePromptTokens: -1}
	if r.opts.Format == FormatTEI {
		// Truncation keeps a long passage from failing the whole batch.
		body = teiRequest{Query: query, Texts: docs, Truncate: true}
	}
	var scores []float64
	err := r.client.post(ctx, "/rerank", body, func(b []byte) error {
		var err error
		scores, err = decodeRerank(b, len(docs))
		return err
	})
	return scores, err
}

// decodeRerank reads {"results": [...]} or a bare [...] and checks that it
// scores each of n documents once.
func decodeRerank(data []byte, n int) ([]float64, error) {
	var results []rerankResult
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &results); err != nil {
			return nil, err
		}
	} else {
		var obj struct {
			Results []rerankResult `json:"results"`
		}
		if err := json.Unmarshal(data, &obj); err != nil {
			return nil, err
		}
		if obj.Results == nil {
			return nil, errors.New(`no "results"`)
		}
		results = obj.Results
	}
	if len(results) != n {
		return nil, fmt.Errorf("%d results for %d documents", len(results), n)
	}
	scores := make([]float64, n)
	seen := make([]bool, n)
	for _, res := range results {
		if res.Index == nil {
			return nil, errors.New("result without an index")
		}
		i := *res.Index
		if i < 0 || i >= n || seen[i] {
			return nil, fmt.Errorf("result index %d out of range or repeated", i)
		}
		s := res.RelevanceScore
		if s == nil {
			s = res.Score
		}
		if s == nil || math.IsNaN(*s) || math.IsInf(*s, 0) {
			return nil, fmt.Errorf("result %d has no finite score", i)
		}
		seen[i] = true
		scores[i] = *s
	}
	return scores, nil
}
