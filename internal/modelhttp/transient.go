package modelhttp

import (
	"net/http"
	"strings"
)

// permanentFailures are answers that another attempt cannot change,
// though some come as 5xx, each with what the operator must change. Each
// is matched in the server's error message, lower-cased.
var permanentFailures = []struct{ marker, hint string }{
	// llama.cpp evaluates one input in one physical batch and answers 500
	// for a longer one (ggml-org/llama.cpp, tools/server/,
	// "input (N tokens) is too large to process. increase the physical
	// batch size").
	{"too large to process", "llama.cpp: start llama-server with -ub (and -b) at least the longest input in tokens, e.g. -b 8192 -ub 8192"},
	// llama.cpp's 500 for a prompt beyond the slot's context.
	{"exceeds the available context size", "llama.cpp: raise -c (the context is shared by --parallel slots) or send shorter inputs"},
	// llama.cpp answers 501 not_supported_error when started without the
	// endpoint's mode (tools/server/server.cpp).
	{"start it with `--embeddings`", "llama.cpp: start llama-server with --embeddings (and --pooling for the model)"},
	{"start it with `--reranking`", "llama.cpp: start llama-server with --reranking and a re-ranker GGUF"},
	// vLLM's 400 for dimensions on a model not marked Matryoshka
	// (vllm-project/vllm vllm/pooling_params.py).
	{"does not support matryoshka representation", "vLLM: start it with --hf-overrides '{\"is_matryoshka\": true}' for a Matryoshka model, or let Cari cut the vectors (embeddings.Config.LocalTruncate)"},
}

// Transient reports whether a failed answer is worth another attempt: 408,
// 429 and 503 always (busy, throttled, loading); 501 never (the server
// lacks the endpoint); other 5xx unless the message names a permanent
// cause. hint, when set, says what the operator must change.
func Transient(status int, message string) (transient bool, hint string) {
	lower := strings.ToLower(message)
	for _, p := range permanentFailures {
		if strings.Contains(lower, p.marker) {
			return false, p.hint
		}
	}
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable:
		return true, ""
	case status == http.StatusNotImplemented:
		return false, ""
	}
	return status >= 500, ""
}
