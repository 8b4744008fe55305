//go:build cgo

package rerank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/embeddings/onnx"
	"github.com/cari-search/cari/searcher"
)

// The tiny cross-encoders and their references come from
// testdata/gen_cross_encoder.py and testdata/gen_pair_reference.mjs.
var tinyCrossEncoders = []string{"tiny-bert-ce", "tiny-xlmr-ce"}

// pairCase is one entry of pair_reference.json: Hugging Face tokenizers'
// encoding of a pair, truncated to MaxLength with "only_second".
type pairCase struct {
	Query     string `json:"query"`
	Passage   string `json:"passage"`
	MaxLength int    `json:"max_length"`
	IDs       []int  `json:"ids"`
	TypeIDs   []int  `json:"type_ids"`
}

func readJSON[T any](t testing.TB, path string) T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// onnxRuntime finds the ONNX Runtime library "make models" unpacks (or
// ONNXRUNTIME_LIB names) or skips the test.
func onnxRuntime(t testing.TB) string {
	t.Helper()
	lib := onnx.RuntimeLibrary(filepath.Join("..", "..", "models"))
	if lib == "" {
		t.Skip(`ONNX Runtime not found in ../../models/onnxruntime: run "make models" or set ONNXRUNTIME_LIB`)
	}
	return lib
}

func loadCrossEncoder(t testing.TB, opts ONNXOptions) *ONNX {
	t.Helper()
	opts.Library = onnxRuntime(t)
	r, err := NewONNX(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestONNXPairEncodingMatchesHF encodes every reference pair and checks
// the ids and type ids against Hugging Face's tokenizers, for a BERT
// template (TemplateProcessing) and an XLM-R one (RobertaProcessing),
// with the passage truncated to several lengths.
func TestONNXPairEncodingMatchesHF(t *testing.T) {
	ref := readJSON[map[string][]pairCase](t, "testdata/pair_reference.json")
	for _, model := range tinyCrossEncoders {
		cases := ref[model]
		if len(cases) == 0 {
			t.Fatalf("%s: no reference cases", model)
		}
		for i, c := range cases {
			enc, err := newPairEncoder(filepath.Join("testdata", model, "tokenizer.json"), c.MaxLength)
			if err != nil {
				t.Fatal(err)
			}
			q, err := enc.tokens(c.Query)
			if err != nil {
				t.Fatal(err)
			}
			ids, types, err := enc.encode(q, c.Passage)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, c.IDs) || !slices.Equal(types, c.TypeIDs) {
				t.Errorf("%s case %d (%q, %q, max %d):\n ids   %v\n want  %v\n types %v\n want  %v",
					model, i, c.Query, c.Passage, c.MaxLength, ids, c.IDs, types, c.TypeIDs)
			}
		}
	}
}

// TestONNXScoresMatchReference scores every reference pair with ONNX
// Runtime through Cari and checks the scores against the float64 numpy
// forward pass of gen_cross_encoder.py: a logit for the [n, 1] model, the
// softmax probability of label 1 for the [n, 2] one. Cases of the default
// length run with MaxTokens 0, which must derive 64 from config.json.
func TestONNXScoresMatchReference(t *testing.T) {
	ref := readJSON[map[string][]pairCase](t, "testdata/pair_reference.json")
	want := readJSON[map[string][]float64](t, "testdata/expected_scores.json")
	for _, model := range tinyCrossEncoders {
		byLength := map[int][]int{}
		for i, c := range ref[model] {
			byLength[c.MaxLength] = append(byLength[c.MaxLength], i)
		}
		for length, idx := range byLength {
			asked := length
			if length == 64 {
				asked = 0
			}
			r := loadCrossEncoder(t, ONNXOptions{Dir: filepath.Join("testdata", model), MaxTokens: asked})
			query := ref[model][idx[0]].Query
			var passages []string
			var wantScores []float64
			for _, i := range idx {
				if ref[model][i].Query != query {
					// One query per call: score this case on its own.
					checkScores(t, r, ref[model][i].Query, []string{ref[model][i].Passage}, []float64{want[model][i]}, model)
					continue
				}
				passages = append(passages, ref[model][i].Passage)
				wantScores = append(wantScores, want[model][i])
			}
			checkScores(t, r, query, passages, wantScores, model)
		}
	}
}

func checkScores(t *testing.T, r *ONNX, query string, passages []string, want []float64, model string) {
	t.Helper()
	got, err := r.score(context.Background(), query, passages)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-4 {
			t.Errorf("%s: score of (%q, %q) = %.6f, reference %.6f", model, query, passages[i], got[i], want[i])
		}
	}
}

var batchPassages = []string{
	"The cat sat on the mat.",
	"",
	"search engine vector model, protein cell gene. " + strings.Repeat("the dog sat on the mat. ", 20),
	"a dog",
	"protein-gene 2023!",
	"how does the vector search engine run",
	"cell",
}

// TestONNXBatchingInvariance checks that a pair's score does not depend on
// the batch it is padded into, its place in the batch or the batch size.
func TestONNXBatchingInvariance(t *testing.T) {
	for _, model := range tinyCrossEncoders {
		var base []float64
		for _, size := range []int{1, 2, 3, 16} {
			r := loadCrossEncoder(t, ONNXOptions{Dir: filepath.Join("testdata", model), BatchSize: size})
			got, err := r.score(context.Background(), "what is the cat", batchPassages)
			if err != nil {
				t.Fatal(err)
			}
			if base == nil {
				base = got
				if slices.Min(got) == slices.Max(got) {
					t.Fatalf("%s: every pair scored %v", model, got[0])
				}
				continue
			}
			for i := range got {
				if math.Abs(got[i]-base[i]) > 1e-5 {
					t.Errorf("%s batch %d: passage %d scored %.7f, alone %.7f", model, size, i, got[i], base[i])
				}
			}
		}
	}
}

// TestONNXConcurrent checks that concurrent searches (as cari serve runs
// them) get the scores one search alone gets.
func TestONNXConcurrent(t *testing.T) {
	r := loadCrossEncoder(t, ONNXOptions{Dir: "testdata/tiny-xlmr-ce", BatchSize: 3})
	want, err := r.score(context.Background(), "what is the cat", batchPassages)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := r.score(context.Background(), "what is the cat", batchPassages)
			for i := range got {
				if err == nil && math.Abs(got[i]-want[i]) > 1e-6 {
					err = fmt.Errorf("scores %v, alone %v", got, want)
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestONNXTruncation checks that pairs never exceed the length and that a
// long query is cut to leave the passage half of the room.
func TestONNXTruncation(t *testing.T) {
	enc, err := newPairEncoder("testdata/tiny-bert-ce/tokenizer.json", 24)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("cat dog ", 40)
	q, _ := enc.tokens(long)
	ids, types, err := enc.encode(q, long)
	if err != nil {
		t.Fatal(err)
	}
	// 24 - 3 special tokens = 21: the passage keeps 10, the query 11.
	if len(ids) != 24 || len(types) != 24 {
		t.Fatalf("pair of %d tokens, %d types; want 24", len(ids), len(types))
	}
	passageTokens := 0
	for _, ty := range types {
		passageTokens += ty
	}
	if passageTokens != 11 { // 10 passage tokens and the final [SEP]
		t.Errorf("passage has %d tokens with its [SEP], want 11 (types %v)", passageTokens, types)
	}
	// A short passage leaves the rest to the long query.
	ids, _, _ = enc.encode(q, "mat")
	if len(ids) != 24 || ids[len(ids)-2] != tokenID(t, enc, "mat") {
		t.Errorf("short passage: %v", ids)
	}
	r := loadCrossEncoder(t, ONNXOptions{Dir: "testdata/tiny-bert-ce"})
	if _, err := r.score(context.Background(), strings.Repeat(long, 10), []string{strings.Repeat(long, 10)}); err != nil {
		t.Errorf("long pair: %v", err)
	}
	if _, err := NewONNX(ONNXOptions{Dir: "testdata/tiny-bert-ce", Library: onnxRuntime(t), MaxTokens: 65}); err == nil || !strings.Contains(err.Error(), "max_position_embeddings") {
		t.Errorf("max tokens past the model's positions: %v", err)
	}
}

func tokenID(t *testing.T, enc *pairEncoder, tok string) int {
	id, ok := enc.tok.TokenToId(tok)
	if !ok {
		t.Fatalf("no token %q", tok)
	}
	return id
}

// TestONNXRerankCandidates checks that Rerank scores what a model should
// read of a candidate: its title, then its passage.
func TestONNXRerankCandidates(t *testing.T) {
	r := loadCrossEncoder(t, ONNXOptions{Dir: "testdata/tiny-xlmr-ce"})
	cands := []searcher.Candidate{
		{Document: cari.Document{Title: "Cats", Text: "The cat sat on the mat."}},
		{Document: cari.Document{Title: "Dogs"}, Passage: "the dog ran"},
	}
	got, err := r.Rerank(context.Background(), "cat", cands)
	if err != nil {
		t.Fatal(err)
	}
	want, err := r.score(context.Background(), "cat", []string{"Cats\nThe cat sat on the mat.", "Dogs\nthe dog ran"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Rerank %v, scores of title and passage %v", got, want)
	}
}

// TestONNXCancellation checks that a cancelled or expired context stops
// scoring with the context's error.
func TestONNXCancellation(t *testing.T) {
	r := loadCrossEncoder(t, ONNXOptions{Dir: "testdata/tiny-bert-ce", BatchSize: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.score(ctx, "cat", batchPassages); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 0)
	defer cancel()
	if _, err := r.score(ctx, "cat", batchPassages); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired: %v", err)
	}
}

// TestONNXName checks that the name carries the model's fingerprint, so
// that the score cache keeps different models and settings apart.
func TestONNXName(t *testing.T) {
	a := loadCrossEncoder(t, ONNXOptions{Dir: "testdata/tiny-bert-ce"})
	b := loadCrossEncoder(t, ONNXOptions{Dir: "testdata/tiny-xlmr-ce"})
	c := loadCrossEncoder(t, ONNXOptions{Dir: "testdata/tiny-bert-ce", MaxTokens: 32})
	if !strings.HasPrefix(a.Name(), "onnx:tiny-bert-ce@") || a.Name() == c.Name() || a.Name() == b.Name() {
		t.Errorf("names %q, %q, %q", a.Name(), b.Name(), c.Name())
	}
}

// TestONNXBadModelDir checks that a broken model directory is refused
// with an error naming the file at fault.
func TestONNXBadModelDir(t *testing.T) {
	lib := onnxRuntime(t)
	copyDir := func(t *testing.T, src string) string {
		dst := t.TempDir()
		for _, f := range []string{"model.onnx", "tokenizer.json", "config.json"} {
			data, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dst
	}
	write := func(t *testing.T, dir, name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"no network", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "model.onnx")) }, "model.onnx"},
		{"no tokenizer", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "tokenizer.json")) }, "tokenizer.json"},
		{"no config", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "config.json")) }, "config.json"},
		{"config not JSON", func(t *testing.T, dir string) { write(t, dir, "config.json", "{") }, "config.json"},
		{"three labels", func(t *testing.T, dir string) {
			write(t, dir, "config.json", `{"id2label": {"0": "contradiction", "1": "entailment", "2": "neutral"}}`)
		}, "config.json has 3 labels"},
		{"unknown post_processor", func(t *testing.T, dir string) {
			write(t, dir, "tokenizer.json", strings.Replace(readFile(t, "testdata/tiny-bert-ce/tokenizer.json"),
				`"TemplateProcessing"`, `"Mystery"`, 1))
		}, `post_processor: type "Mystery"`},
		{"tokenizer not JSON", func(t *testing.T, dir string) { write(t, dir, "tokenizer.json", "[") }, "tokenizer.json"},
		{"corrupt network", func(t *testing.T, dir string) { write(t, dir, "model.onnx", "not a protobuf") }, "model.onnx"},
		{"embedding model", func(t *testing.T, dir string) {
			data := readFile(t, "../../embeddings/onnx/testdata/tiny-bert/model.onnx")
			write(t, dir, "model.onnx", data)
		}, "per token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, "testdata/tiny-bert-ce")
			c.setup(t, dir)
			r, err := NewONNX(ONNXOptions{Dir: dir, Library: lib})
			if err == nil {
				r.Close()
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name %q and the directory", err, c.want)
			}
		})
	}
	if _, err := NewONNX(ONNXOptions{}); err == nil {
		t.Error("no directory: loaded")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// BenchmarkONNXRerank50TinyModel measures the time the ONNX re-ranker
// takes for 50 candidates of about 1,000 characters with the tiny
// random-weight test model (one layer, 32 wide, pairs cut to 64 tokens).
// It shows Cari's own overhead (tokenizing, batching, the runtime call),
// not what a real cross-encoder costs: bge-reranker-base is some thousand
// times the work per token.
func BenchmarkONNXRerank50TinyModel(b *testing.B) {
	r := loadCrossEncoder(b, ONNXOptions{Dir: "testdata/tiny-bert-ce"})
	cands := make([]searcher.Candidate, 50)
	for i := range cands {
		cands[i] = searcher.Candidate{Document: cari.Document{Title: "doc"},
			Passage: strings.Repeat("the cat sat on the mat. protein cell gene 2023. ", 20)[i:]}
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := r.Rerank(ctx, "what does the cat do", cands); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/50-candidates")
}

// TestLeadingTokens checks that tokenizing a start of the passage gives
// the same first tokens as tokenizing all of it.
func TestLeadingTokens(t *testing.T) {
	for _, model := range tinyCrossEncoders {
		enc, err := newPairEncoder(filepath.Join("testdata", model, "tokenizer.json"), 64)
		if err != nil {
			t.Fatal(err)
		}
		texts := []string{
			strings.Repeat("The cat sat on the mat.  protein-gene\t2023!\n", 30),
			strings.Repeat("unabledogsplaying ", 40) + strings.Repeat("x", 500),
			strings.Repeat("中文", 300),
			"short text",
		}
		for _, text := range texts {
			all, err := enc.tokens(text)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 5, 20, 61, 200} {
				got, err := enc.leadingTokens(text, n)
				if err != nil {
					t.Fatal(err)
				}
				k := min(n, len(all))
				if len(got) < k || !slices.Equal(got[:k], all[:k]) {
					t.Errorf("%s, %d tokens of %.30q: %v, want %v", model, n, text, got[:min(k, len(got))], all[:k])
				}
			}
		}
	}
}

// BenchmarkONNXRerank50Sized times 50 candidates of about 1,000
// characters (a passage of Cari's chunk size; about 330 tokens a pair with
// the tiny vocabulary) through a random-weight model of a real
// cross-encoder's shape, written by
// "gen_cross_encoder.py --sized DIR" and named by $CARI_ONNX_BENCH_MODEL.
// A network's time does not depend on its weights, so this estimates what
// the real model would cost on this machine; it skips without the
// variable.
func BenchmarkONNXRerank50Sized(b *testing.B) {
	dir := os.Getenv("CARI_ONNX_BENCH_MODEL")
	if dir == "" {
		b.Skip("set CARI_ONNX_BENCH_MODEL to a directory from gen_cross_encoder.py --sized")
	}
	r := loadCrossEncoder(b, ONNXOptions{Dir: dir})
	cands := make([]searcher.Candidate, 50)
	for i := range cands {
		cands[i] = searcher.Candidate{Document: cari.Document{Title: "doc"},
			Passage: strings.Repeat("the cat sat on the mat. protein cell gene 2023. ", 21)[i:]}
	}
	q, _ := r.pairs.tokens("what does the cat do")
	ids, _, _ := r.pairs.encode(q, documentText(cands[0]))
	ctx := context.Background()
	for b.Loop() {
		if _, err := r.Rerank(ctx, "what does the cat do", cands); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/50-candidates")
	b.ReportMetric(float64(len(ids)), "tokens/pair")
}
