package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEachDefectCaught reintroduces each defect the deployment once had
// into a copy of the real files and checks that the validation names it,
// so that the checks keep up with the files they check.
func TestEachDefectCaught(t *testing.T) {
	files := []string{"docker-compose.yml", "deploy/compose.gpu.yml", "Dockerfile", "go.mod", ".dockerignore"}
	tests := []struct {
		name, file, old, new string
		gpu                  bool
		want                 string
	}{
		{"reranker TEI cannot serve", "docker-compose.yml", `"--model-id", "BAAI/bge-reranker-v2-m3"`, `"--model-id", "Qwen/Qwen3-Reranker-0.6B"`, false, "TEI cannot serve Qwen/Qwen3-Reranker-0.6B"},
		{"empty Qdrant key", "docker-compose.yml", `&qdrant-key "${QDRANT_API_KEY:?set QDRANT_API_KEY: Qdrant turns authentication on for any value it is given, an empty one included}"`, `&qdrant-key "${QDRANT_API_KEY:-}"`, false, "QDRANT__SERVICE__API_KEY is set but empty"},
		{"cluster off", "docker-compose.yml", `QDRANT__CLUSTER__ENABLED: "true"`, `QDRANT__CLUSTER__ENABLED: "${QDRANT_CLUSTER:-false}"`, false, "without QDRANT__CLUSTER__ENABLED=true"},
		{"vLLM --task", "deploy/compose.gpu.yml", "- --runner\n      - pooling\n      - --gpu-memory-utilization\n      - \"0.4\"\n      - --hf-overrides\n      - '{\"is_matryoshka\"", "- --task\n      - embed\n      - --gpu-memory-utilization\n      - \"0.4\"\n      - --hf-overrides\n      - '{\"is_matryoshka\"", true, "removed --task"},
		{"both vLLM claim 90%", "deploy/compose.gpu.yml", "      - --gpu-memory-utilization\n      - \"0.4\"\n", "", true, "claim 1.80 of its memory together"},
		{"no shared memory", "deploy/compose.gpu.yml", "    ipc: host\n", "", true, "needs ipc: host or shm_size"},
		{"GPU waits on CPU servers", "deploy/compose.gpu.yml", "    depends_on: !override\n      qdrant:\n        condition: service_healthy\n      embeddings-gpu:\n        condition: service_healthy\n      reranker-gpu:", "    depends_on:\n      qdrant:\n        condition: service_healthy\n      embeddings-gpu:\n        condition: service_healthy\n      reranker-gpu:", true, "waits for embeddings, which runs no container"},
		{"literal tei re-ranker", "docker-compose.yml", `CARI_RERANKER: "${CARI_RERANKER:-tei}"`, `CARI_RERANKER: tei`, false, ""},
		{"GPU re-ranker kind", "deploy/compose.gpu.yml", "      CARI_RERANKER: rerank-api\n", "", true, "CARI_RERANKER=tei, but the re-ranker is vLLM"},
		{"unpinned image", "docker-compose.yml", "qdrant/qdrant:v1.18.2\n    command: [\"./qdrant\", \"--uri\"", "qdrant/qdrant:latest\n    command: [\"./qdrant\", \"--uri\"", false, `image "qdrant/qdrant:latest" is not pinned`},
		{"Go image behind go.mod", "Dockerfile", "FROM golang:1.26.8-bookworm", "FROM golang:1.26-bookworm", false, "Dockerfile builds with golang:1.26"},
		{"no .dockerignore", ".dockerignore", "", "", false, "no .dockerignore"},
		{"two generation creators", "docker-compose.yml", "      reranker:\n        condition: service_healthy\n      worker:\n        condition: service_healthy\n", "      reranker:\n        condition: service_healthy\n", false, "serve does not wait for the worker"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range files {
				data, err := os.ReadFile(filepath.Join("..", f))
				if err != nil {
					t.Fatal(err)
				}
				text := string(data)
				if f == tc.file {
					if tc.old == "" && tc.new == "" {
						continue // the file is missing
					}
					if !strings.Contains(text, tc.old) {
						t.Fatalf("%s no longer holds %q: update the test", f, tc.old)
					}
					text = strings.ReplaceAll(text, tc.old, tc.new)
				}
				path := filepath.Join(root, f)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.want == "" {
				// A literal in x-cari-env cannot be overridden by the
				// operator's environment: the GPU setup must still work
				// through the override, which sets it on serve.
				p, err := load(t, root, files[:2], nil, append(composeEnv, "CARI_RERANKER=chat"))
				if err != nil {
					t.Fatal(err)
				}
				if v := p.Services["serve"].Environment["CARI_RERANKER"]; v == nil || *v != "rerank-api" {
					t.Errorf("CARI_RERANKER %v under the GPU override", v)
				}
				p, err = load(t, root, files[:1], nil, append(composeEnv, "CARI_RERANKER=chat"))
				if err != nil {
					t.Fatal(err)
				}
				if v := p.Services["serve"].Environment["CARI_RERANKER"]; v != nil && *v == "tei" {
					return // the literal wins over the operator's setting: caught
				}
				t.Errorf("CARI_RERANKER=chat from the environment was honoured with a literal in the file")
				return
			}
			var found []string
			found = append(found, buildDefects(root)...)
			compose := files[:1]
			if tc.gpu {
				compose = files[:2]
			}
			env := composeEnv
			if strings.Contains(tc.new, "QDRANT_API_KEY:-") {
				// Without QDRANT_API_KEY, as an operator who has none.
				env = composeEnv[:2]
			}
			p, err := load(t, root, compose, nil, env)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			found = append(found, defects(p)...)
			if !strings.Contains(strings.Join(found, "\n"), tc.want) {
				t.Errorf("defect not caught: want %q among\n%s", tc.want, strings.Join(found, "\n"))
			}
		})
	}
}
