package embeddings

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// embeddingServer answers /v1/embeddings with a vector per input of the
// given dimension and records the inputs.
func embeddingServer(t *testing.T, dim int) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var inputs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		mu.Lock()
		inputs = append(inputs, req.Input...)
		mu.Unlock()
		data := make([]map[string]any, len(req.Input))
		for i, in := range req.Input {
			v := make([]float32, dim)
			v[len(in)%dim] = 2
			data[i] = map[string]any{"index": i, "embedding": v}
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	t.Cleanup(srv.Close)
	return srv, &inputs
}

// TestNewOpenAI checks the provider end to end over HTTP: the dimension
// probe, Qwen3's instruction on the query side only, unit vectors.
func TestNewOpenAI(t *testing.T) {
	srv, inputs := embeddingServer(t, 16)
	p, err := New(context.Background(), Config{Provider: ProviderOpenAI, URL: srv.URL + "/v1"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	info := p.Model()
	if info.Provider != ProviderOpenAI || info.Name != DefaultOpenAIModel || info.Dim != 16 {
		t.Errorf("model %+v", info)
	}
	if _, err := p.EmbedDocuments(context.Background(), []string{"a passage"}); err != nil {
		t.Fatal(err)
	}
	q, err := p.EmbedQuery(context.Background(), "a question")
	if err != nil {
		t.Fatal(err)
	}
	got := *inputs
	wantQuery := "Instruct: " + DefaultTask + "\nQuery:a question"
	if len(got) != 3 || got[1] != "a passage" || got[2] != wantQuery {
		t.Errorf("inputs %q", got)
	}
	if cos(q, q) < 0.99999 || q[len(wantQuery)%16] != 1 {
		t.Errorf("query vector %v", q)
	}

	// The fingerprint follows the operator's model version and dimensions.
	p2, err := New(context.Background(), Config{Provider: ProviderOpenAI, URL: srv.URL + "/v1", ModelVersion: "rev2"})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	if p2.Model().ID() == info.ID() {
		t.Error("a new model version has the same ID")
	}
}

func TestNewOpenAIWithCacheAndKeyFile(t *testing.T) {
	srv, inputs := embeddingServer(t, 8)
	keyFile := t.TempDir() + "/key"
	if err := writeFile(keyFile, "s3cret\n"); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Provider: ProviderOpenAI, URL: srv.URL + "/v1", Model: "intfloat/e5-small-v2", APIKeyFile: keyFile, CacheDir: t.TempDir()}
	p, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := p.EmbedDocuments(context.Background(), []string{"x", "y"}); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	got := *inputs
	if len(got) != 3 || got[1] != "passage: x" {
		t.Errorf("inputs %q: want the probe, then each passage once", got)
	}
	cfg.APIKeyFile = t.TempDir() + "/missing"
	if _, err := New(context.Background(), cfg); err == nil {
		t.Error("missing key file: no error")
	}
}
