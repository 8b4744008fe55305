package rerank

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

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
	// PromptsAuto picks PromptsQwen3 for a model whose name holds
	// "qwen3-reranker", else PromptsNone.
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
}

// RerankAPI scores candidates with a cross-encoder (Qwen3-Reranker,
// bge-reranker, Jina) behind a rerank endpoint: POST {URL}/rerank. It
// reads both answer shapes, {"results": [{"index", "relevance_score"}]}
// and TEI's bare [{"index", "score"}], and checks that every document got
// exactly one finite score.
type RerankAPI struct {
	opts   RerankAPIOptions
	client *client
	name   string
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
	case "", PromptsAuto:
		opts.Prompts = PromptsNone
		if strings.Contains(strings.ToLower(opts.Model), "qwen3-reranker") {
			opts.Prompts = PromptsQwen3
		}
	case PromptsNone, PromptsQwen3:
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
	r := &RerankAPI{opts: opts, client: newClient(opts.Server)}
	r.opts.Server = r.client.srv
	model := opts.Model
	if model == "" {
		model = opts.URL
	}
	r.name = opts.Format + "-rerank/" + model
	if opts.Prompts == PromptsQwen3 {
		r.name += "+qwen3#" + shortHash(opts.Instruction)
	}
	return r, nil
}

// query is the query as the model reads it.
func (r *RerankAPI) query(q string) string {
	if r.opts.Prompts != PromptsQwen3 {
		return q
	}
	return qwen3Prefix + "<Instruct>: " + r.opts.Instruction + "\n<Query>: " + q + "\n"
}

// document is a candidate as the model reads it.
func (r *RerankAPI) document(c searcher.Candidate) string {
	if r.opts.Prompts != PromptsQwen3 {
		return documentText(c)
	}
	return "<Document>: " + documentText(c) + qwen3Suffix
}

// Name identifies the model, for the score cache.
func (r *RerankAPI) Name() string { return r.name }

// String is the name, so that printing a re-ranker shows no API key.
func (r *RerankAPI) String() string { return r.name }

// Rerank scores the candidates in batches of BatchSize, Concurrency at a
// time. Scores of a cross-encoder do not depend on the batch.
func (r *RerankAPI) Rerank(ctx context.Context, query string, cands []searcher.Candidate) ([]float64, error) {
	scores := make([]float64, len(cands))
	size := r.opts.BatchSize
	batches := (len(cands) + size - 1) / size
	err := forEach(ctx, batches, r.opts.Concurrency, func(ctx context.Context, b int) error {
		start, end := b*size, min(len(cands), (b+1)*size)
		docs := make([]string, end-start)
		for k := range docs {
			docs[k] = r.document(cands[start+k])
		}
		got, err := r.score(ctx, r.query(query), docs)
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

// cohereRequest is the body of POST /v1/rerank.
type cohereRequest struct {
	Model           string   `json:"model"`
	Query           string   `json:"query"`
	Documents       []string `json:"documents"`
	TopN            int      `json:"top_n"`
	ReturnDocuments bool     `json:"return_documents"`
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
	var body any = cohereRequest{Model: r.opts.Model, Query: query, Documents: docs, TopN: len(docs)}
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
