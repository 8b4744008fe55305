package rerank

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cari-search/cari/embeddings/onnx"
	"github.com/cari-search/cari/searcher"
)

// The ONNX re-ranker runs a cross-encoder (bge-reranker-base or -v2-m3,
// ms-marco-MiniLM-L-6-v2, jina-reranker-v2, mxbai-rerank) in-process with
// ONNX Runtime, from a directory as Optimum's
// "optimum-cli export onnx --task text-classification" writes it:
//
//	model.onnx or onnx/model.onnx   the network, logits [batch, 1] or [batch, 2]
//	tokenizer.json                  the Hugging Face tokenizer
//	config.json                     id2label / num_labels, max_position_embeddings

// DefaultONNXMaxTokens bounds a (query, passage) pair, special tokens
// included, unless the model's positions allow fewer.
const DefaultONNXMaxTokens = 512

// DefaultONNXBatchSize is how many pairs one ONNX Runtime call scores.
const DefaultONNXBatchSize = 16

// ONNXOptions configure NewONNX. Dir is required.
type ONNXOptions struct {
	Dir string
	// Library is the path of libonnxruntime.so (see onnx.Options); one
	// process loads one library, shared with an ONNX embedder.
	Library string
	// MaxTokens bounds a pair; the passage is truncated to fit. Zero is
	// DefaultONNXMaxTokens or the model's position limit, if smaller.
	MaxTokens int
	// BatchSize is pairs per run (default DefaultONNXBatchSize).
	BatchSize int
	// Threads caps ONNX Runtime's intra-op threads; zero is its default.
	Threads int
}

// ONNX is an in-process cross-encoder re-ranker, safe for concurrent use.
type ONNX struct {
	session   *onnx.Session
	pairs     *pairEncoder
	positive  int // the output column of "relevant" when there are two
	batchSize int
	name      string
}

// NewONNX loads the model directory and starts an ONNX Runtime session.
func NewONNX(opts ONNXOptions) (*ONNX, error) {
	if opts.Dir == "" {
		return nil, errors.New("onnx re-ranker: no model directory")
	}
	r, err := newONNX(opts)
	if err != nil {
		return nil, fmt.Errorf("onnx re-ranker %s: %w", opts.Dir, err)
	}
	return r, nil
}

func newONNX(opts ONNXOptions) (*ONNX, error) {
	modelPath, err := onnx.FindModelFile(opts.Dir)
	if err != nil {
		return nil, err
	}
	cfg, err := readClassifierConfig(filepath.Join(opts.Dir, "config.json"))
	if err != nil {
		return nil, err
	}
	maxTokens, err := cfg.maxTokens(opts.MaxTokens)
	if err != nil {
		return nil, err
	}
	pairs, err := newPairEncoder(filepath.Join(opts.Dir, "tokenizer.json"), maxTokens)
	if err != nil {
		return nil, err
	}
	fp, err := onnxFingerprint(opts.Dir, modelPath, maxTokens)
	if err != nil {
		return nil, err
	}
	s, err := onnx.OpenSession(modelPath, onnx.SessionOptions{Library: opts.Library, Threads: opts.Threads})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(modelPath), err)
	}
	r := &ONNX{session: s, pairs: pairs, batchSize: opts.BatchSize,
		name: "onnx:" + filepath.Base(filepath.Clean(opts.Dir)) + "@" + fp[:16]}
	if r.batchSize <= 0 {
		r.batchSize = DefaultONNXBatchSize
	}
	if r.positive, err = cfg.positiveColumn(s); err != nil {
		s.Close()
		return nil, err
	}
	return r, nil
}

// Name identifies the model and its fingerprint, for the score cache.
func (r *ONNX) Name() string { return r.name }

// Close ends the ONNX Runtime session.
func (r *ONNX) Close() error { return r.session.Close() }

// Rerank scores each candidate's title and passage against the query, in
// batches of pairs of similar length.
func (r *ONNX) Rerank(ctx context.Context, query string, cands []searcher.Candidate) ([]float64, error) {
	passages := make([]string, len(cands))
	for i, c := range cands {
		passages[i] = documentText(c)
	}
	return r.score(ctx, query, passages)
}

// score returns one score per passage.
func (r *ONNX) score(ctx context.Context, query string, passages []string) ([]float64, error) {
	q, err := r.pairs.tokens(query)
	if err != nil {
		return nil, fmt.Errorf("tokenize query: %w", err)
	}
	ids, types := make([][]int, len(passages)), make([][]int, len(passages))
	for i, p := range passages {
		if ids[i], types[i], err = r.pairs.encode(q, p); err != nil {
			return nil, fmt.Errorf("candidate %d: %w", i+1, err)
		}
	}
	// Batching pairs of similar length wastes little on padding; a
	// cross-encoder's scores do not depend on the batch.
	order := make([]int, len(passages))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(ids[a]) - len(ids[b]) })
	scores := make([]float64, len(passages))
	for start := 0; start < len(order); start += r.batchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part := order[start:min(len(order), start+r.batchSize)]
		bIDs, bTypes := make([][]int, len(part)), make([][]int, len(part))
		for k, i := range part {
			bIDs[k], bTypes[k] = ids[i], types[i]
		}
		out, err := r.session.Run(ctx, onnx.NewBatch(bIDs, bTypes, r.pairs.padID))
		if err != nil {
			return nil, err
		}
		for k, i := range part {
			scores[i] = r.rowScore(out, k)
		}
	}
	return scores, nil
}

// rowScore is row k's logit, or with two columns the softmax probability
// of the relevant one.
func (r *ONNX) rowScore(out []float32, k int) float64 {
	w := r.session.Width()
	row := out[k*w : (k+1)*w]
	if w == 1 {
		return float64(row[0])
	}
	other := float64(row[1-r.positive])
	return 1 / (1 + math.Exp(other-float64(row[r.positive])))
}

// classifierConfig is what the re-ranker reads of config.json.
type classifierConfig struct {
	ModelType    string            `json:"model_type"`
	ID2Label     map[string]string `json:"id2label"`
	NumLabels    int               `json:"num_labels"`
	MaxPositions int               `json:"max_position_embeddings"`
}

func readClassifierConfig(path string) (*classifierConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	var c classifierConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if c.NumLabels == 0 {
		c.NumLabels = len(c.ID2Label)
	}
	return &c, nil
}

// maxTokens is the pair length: asked, else DefaultONNXMaxTokens, never
// more than the model has positions for. RoBERTa-family models start
// positions after the padding index, so two fewer are usable.
func (c *classifierConfig) maxTokens(asked int) (int, error) {
	limit := c.MaxPositions
	if limit > 0 && (strings.Contains(c.ModelType, "roberta") || c.ModelType == "camembert") {
		limit -= 2
	}
	if asked > 0 {
		if limit > 0 && asked > limit {
			return 0, fmt.Errorf("max tokens %d: config.json max_position_embeddings allows %d", asked, limit)
		}
		return asked, nil
	}
	if limit > 0 {
		return min(DefaultONNXMaxTokens, limit), nil
	}
	return DefaultONNXMaxTokens, nil
}

// positiveColumn checks the output against config.json's labels and
// returns the column that means "relevant" for a two-label model: the one
// named relevant, positive, yes or true, else label 1.
func (c *classifierConfig) positiveColumn(s *onnx.Session) (int, error) {
	if s.PerToken() {
		return 0, fmt.Errorf("model output is %v, per token: not a cross-encoder (export with --task text-classification)", s)
	}
	w := s.Width()
	if c.NumLabels != 0 && c.NumLabels != w {
		return 0, fmt.Errorf("config.json has %d labels (id2label/num_labels) but the model output is %v", c.NumLabels, s)
	}
	switch w {
	case 1:
		return 0, nil
	case 2:
		for id, label := range c.ID2Label {
			switch strings.ToLower(label) {
			case "relevant", "positive", "yes", "true":
				if id == "0" || id == "1" {
					return int(id[0] - '0'), nil
				}
			}
		}
		return 1, nil
	}
	return 0, fmt.Errorf("model output is %v: a re-ranker scores with 1 logit or 2 labels", s)
}

// onnxFingerprint digests the files and the setting that shape the scores.
func onnxFingerprint(dir, modelPath string, maxTokens int) (string, error) {
	h := sha256.New()
	for _, f := range []string{modelPath, modelPath + "_data", filepath.Join(dir, "tokenizer.json"), filepath.Join(dir, "config.json")} {
		if err := onnx.HashFile(h, f); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(h, "max_tokens=%d", maxTokens)
	return hex.EncodeToString(h.Sum(nil)), nil
}
