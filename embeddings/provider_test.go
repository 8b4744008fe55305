package embeddings

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testStaticModel = "static/testdata/glove-5k.cvec"

func TestNewStatic(t *testing.T) {
	p, err := New(context.Background(), Config{Model: testStaticModel})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	info := p.Model()
	if info.Provider != ProviderStatic || info.Name != "glove-6b-100d-5k" || info.Dim != 100 || p.Dim() != 100 || len(info.Version) != 16 {
		t.Errorf("model %+v", info)
	}
	if !strings.HasPrefix(info.ID(), "static/glove-6b-100d-5k@") {
		t.Errorf("ID %q", info.ID())
	}
	texts := make([]string, 600)
	for i := range texts {
		texts[i] = fmt.Sprintf("the %d people of the city said that it was a good year", i)
	}
	docs, err := p.EmbedDocuments(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.EmbedQuery(context.Background(), texts[7])
	if err != nil {
		t.Fatal(err)
	}
	if cos(q, docs[7]) < 0.99999 || math.Abs(cos(q, q)-1) > 1e-5 {
		t.Errorf("query and document vectors of one text differ (no prompts): %g", cos(q, docs[7]))
	}
}

func TestNewErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := New(ctx, Config{ModelsDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "make models") {
		t.Errorf("missing default model: %v", err)
	}
	for _, cfg := range []Config{
		{Provider: "word2vec"},
		{Provider: ProviderONNX},
		{Provider: ProviderStatic, Model: testStaticModel, Convention: "llama"},
		{Provider: ProviderOpenAI, Dimensions: -1},
	} {
		if _, err := New(ctx, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// fakeEncoder records the batches it is given.
type fakeEncoder struct {
	dim      int
	delay    time.Duration
	failOn   string // a text that makes its batch fail
	mu       sync.Mutex
	batches  [][]string
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

func (f *fakeEncoder) encode(ctx context.Context, texts []string) ([][]float32, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.batches = append(f.batches, texts)
	f.mu.Unlock()
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if t == f.failOn {
			return nil, errors.New("model failed")
		}
		out[i] = make([]float32, f.dim)
		out[i][len(t)%f.dim] = float32(len(t)) // not unit length: the provider scales it
	}
	return out, nil
}

func (f *fakeEncoder) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}

func fakeProvider(f *fakeEncoder, batch, concurrency int) *Provider {
	return &Provider{
		info:        ModelInfo{Provider: "fake", Name: "fake", Version: "v1", Dim: f.dim},
		prompts:     Prompts{Query: "q: ", Document: "d: "},
		encode:      f.encode,
		batchSize:   batch,
		concurrency: concurrency,
		log:         slog.New(slog.DiscardHandler),
	}
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.Repeat("x", i)
	}
	return out
}

func TestBatchingAndConcurrency(t *testing.T) {
	f := &fakeEncoder{dim: 128, delay: 5 * time.Millisecond}
	p := fakeProvider(f, 10, 3)
	texts := numbered(95)
	got, err := p.EmbedDocuments(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.batches) != 10 || f.maxSeen.Load() > 3 || f.maxSeen.Load() < 2 {
		t.Errorf("%d batches, at most %d in flight; want 10 and 2-3", len(f.batches), f.maxSeen.Load())
	}
	for _, b := range f.batches {
		if len(b) > 10 || !strings.HasPrefix(b[0], "d: ") {
			t.Errorf("batch of %d starting %q", len(b), b[0])
		}
	}
	for i, v := range got {
		want := len("d: ") + i
		if v[want%128] != 1 {
			t.Fatalf("vector %d out of order or not unit length", i)
		}
	}
	q, err := p.EmbedQuery(context.Background(), "abc")
	if err != nil || q[len("q: abc")%128] != 1 {
		t.Errorf("query: %v, prompt not applied", err)
	}
}

func TestBatchErrorStopsTheRest(t *testing.T) {
	texts := numbered(100)
	f := &fakeEncoder{dim: 200, delay: 2 * time.Millisecond, failOn: "d: " + texts[25]}
	p := fakeProvider(f, 10, 2)
	_, err := p.EmbedDocuments(context.Background(), texts)
	if err == nil || !strings.Contains(err.Error(), "embed texts 20-29: model failed") {
		t.Errorf("error %v", err)
	}
	if f.calls() > 6 {
		t.Errorf("%d batches started after the failure", f.calls())
	}
}

// TestCancellation: the encoder would take an hour, so EmbedDocuments
// returning at all shows it stopped at the deadline; the ten seconds are
// only how long the test waits for that, whatever the machine's load.
func TestCancellation(t *testing.T) {
	f := &fakeEncoder{dim: 4, delay: time.Hour}
	p := fakeProvider(f, 1, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := p.EmbedDocuments(ctx, numbered(10))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("EmbedDocuments still running 10s after its 50ms deadline")
	}
	if f.calls() > 2 {
		t.Errorf("%d calls, want at most the 2 in flight at the deadline", f.calls())
	}
	cancel()
	if _, err := p.EmbedQuery(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("query after cancel: %v", err)
	}
}

func TestVectorChecks(t *testing.T) {
	for name, enc := range map[string]encodeFunc{
		"wrong dimension": func(_ context.Context, texts []string) ([][]float32, error) {
			return [][]float32{{1, 2, 3}}, nil
		},
		"wrong count": func(_ context.Context, texts []string) ([][]float32, error) {
			return nil, nil
		},
		"NaN": func(_ context.Context, texts []string) ([][]float32, error) {
			return [][]float32{{1, float32(math.NaN())}}, nil
		},
	} {
		p := fakeProvider(&fakeEncoder{dim: 2}, 8, 1)
		p.encode = enc
		if _, err := p.EmbedDocuments(context.Background(), []string{"a"}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPromptsFor(t *testing.T) {
	for _, tc := range []struct {
		convention, model string
		want              Prompts
	}{
		{"", "Qwen/Qwen3-Embedding-0.6B", Prompts{Query: "Instruct: " + DefaultTask + "\nQuery:"}},
		{"auto", "intfloat/multilingual-e5-small", Prompts{Query: "query: ", Document: "passage: "}},
		{"auto", "BAAI/bge-small-en-v1.5", Prompts{Query: bgeInstruction}},
		{"auto", "BAAI/bge-m3", Prompts{}},
		{"auto", "sentence-transformers/all-MiniLM-L6-v2", Prompts{}},
		{"auto", "nomic-ai/nomic-embed-text-v1.5", Prompts{Query: "search_query: ", Document: "search_document: "}},
		{"e5", "my-model", Prompts{Query: "query: ", Document: "passage: "}},
		{"none", "Qwen/Qwen3-Embedding-8B", Prompts{}},
	} {
		got, err := PromptsFor(tc.convention, tc.model, "")
		if err != nil || got != tc.want {
			t.Errorf("%s %s: got %+v, %v; want %+v", tc.convention, tc.model, got, err, tc.want)
		}
	}
	if p, _ := PromptsFor("qwen3", "", "Find the claim's evidence"); p.Query != "Instruct: Find the claim's evidence\nQuery:" {
		t.Errorf("task: %q", p.Query)
	}
	cfg := Config{Provider: ProviderONNX, Model: "e5-small", QueryPrefix: "Q> "}.withDefaults()
	if p, _ := cfg.prompts(); p.Query != "Q> " || p.Document != "passage: " {
		t.Errorf("override: %+v", p)
	}
}

func TestCheckModel(t *testing.T) {
	m := ModelInfo{Provider: "static", Name: "glove", Version: "abc", Dim: 100}
	if err := CheckModel(m.ID(), 100, m); err != nil {
		t.Errorf("same model: %v", err)
	}
	err := CheckModel("openai/Qwen/Qwen3-Embedding-0.6B@123", 1024, m)
	if !errors.Is(err, ErrModelChanged) || !strings.Contains(err.Error(), "reindex") {
		t.Errorf("changed model: %v", err)
	}
	if err := CheckModel(m.ID(), 50, m); !errors.Is(err, ErrModelChanged) {
		t.Errorf("changed dimension: %v", err)
	}
}

func TestVersionCoversDocumentPrompt(t *testing.T) {
	a, b := version("w", "", 8), version("w", "passage: ", 8)
	if a == b || a != version("w", "", 8) || a == version("w", "", 16) {
		t.Error("version does not follow the document prompt and dimension")
	}
}

func cos(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }

// TestNewONNX loads the tiny test network through the onnx provider with
// the ONNX Runtime "make models" fetched; embeddings/onnx tests its
// outputs against a reference computation.
func TestNewONNX(t *testing.T) {
	lib := os.Getenv("ONNXRUNTIME_LIB")
	if lib == "" {
		lib = "../models/onnxruntime/libonnxruntime.so.1"
	}
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime not found at %s: run \"make models\" or set ONNXRUNTIME_LIB", lib)
	}
	p, err := New(context.Background(), Config{Provider: ProviderONNX, Model: "onnx/testdata/tiny-bert", ONNXRuntime: lib, QueryPrefix: "search ", DocumentPrefix: "dog "})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if info := p.Model(); info.Provider != ProviderONNX || info.Name != "tiny-bert" || info.Dim != 32 {
		t.Errorf("model %+v", info)
	}
	texts := make([]string, 40)
	for i := range texts {
		texts[i] = strings.Repeat("the cat sat on the mat ", i%7+1)
	}
	docs, err := p.EmbedDocuments(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.EmbedQuery(context.Background(), texts[5])
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 40 || math.Abs(cos(docs[5], docs[5])-1) > 1e-5 || cos(q, docs[5]) > 0.99999 {
		t.Errorf("query and passage prompts should make different vectors: cosine %g", cos(q, docs[5]))
	}
}

func TestNewIfAny(t *testing.T) {
	ctx := context.Background()
	if p, err := NewIfAny(ctx, Config{Provider: ProviderNone}, true); p != nil || err != nil {
		t.Errorf("ProviderNone gives %v, %v; want no embedder", p, err)
	}
	// The default model in an empty models directory: not fetched yet.
	var logs bytes.Buffer
	cfg := Config{ModelsDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if p, err := NewIfAny(ctx, cfg, false); p != nil || err != nil {
		t.Errorf("a missing default model gives %v, %v; want keyword only", p, err)
	}
	if !strings.Contains(logs.String(), "keyword search only") || !strings.Contains(logs.String(), "make models") {
		t.Errorf("no warning that says how to fetch the model: %q", logs.String())
	}
	if _, err := NewIfAny(ctx, cfg, true); err == nil {
		t.Error("a missing model the caller named was accepted")
	}
}
