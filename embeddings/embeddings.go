// Package embeddings turns text into vectors with an open model the
// operator runs: pretrained static word vectors in-process (the default,
// package static), a sentence-embedding model exported to ONNX run
// in-process by ONNX Runtime (package onnx), or any server that speaks
// the OpenAI /v1/embeddings protocol, such as vLLM, Hugging Face TEI,
// llama.cpp, Ollama or Infinity (package openai).
//
// New picks the provider from a Config and wraps it with what every
// provider needs: the model's query and document prompts, batching, a cap
// on concurrent provider calls, cancellation, unit-length vectors and an
// optional persistent cache. Its Provider is the one embedder: the
// indexer and the searcher each define the narrow interface they call
// (indexer.DocumentEmbedder, searcher.QueryEmbedder), which it implements.
package embeddings

import (
	"errors"
	"fmt"
)

// ModelInfo identifies the vectors a Provider makes. Two Providers with
// the same ID make comparable document vectors; an index records the ID
// it was built with and must be rebuilt when it changes.
type ModelInfo struct {
	// Provider is "static", "onnx" or "openai".
	Provider string `json:"provider"`
	// Name is the model's name: a file or directory name in the models
	// directory, or the model a server serves.
	Name string `json:"name"`
	// Version is a fingerprint of what shapes the document vectors: a
	// SHA-256 of the weights files for in-process models; for a server,
	// of the model name, dimensions, document prompt and the operator's
	// Config.ModelVersion, since the weights cannot be seen from here.
	Version string `json:"version"`
	// Dim is the vector length.
	Dim int `json:"dim"`
}

// ID is the one-string form of the model, as an index records it:
// "provider/name@version".
func (m ModelInfo) ID() string {
	return fmt.Sprintf("%s/%s@%s", m.Provider, m.Name, m.Version)
}

func (m ModelInfo) String() string { return fmt.Sprintf("%s (%d dimensions)", m.ID(), m.Dim) }

// ErrModelChanged reports that an index was built with another model than
// the one configured now; its vectors cannot be compared with the new
// model's, so the index has to be rebuilt.
var ErrModelChanged = errors.New("embedding model changed")

// CheckModel compares the model ID and dimension an index recorded with
// the model configured now. The error wraps ErrModelChanged and tells the
// operator the two ways out.
func CheckModel(indexedID string, indexedDim int, current ModelInfo) error {
	if indexedID == current.ID() && indexedDim == current.Dim {
		return nil
	}
	return fmt.Errorf("%w: the index was built with %s (%d dimensions) but this process embeds with %s; "+
		"vectors of different models cannot be compared: reindex with the new model "+
		"(cari index --embedder ... into a new data directory, or cari reindex), or run with the original model",
		ErrModelChanged, indexedID, indexedDim, current)
}
