package embeddings

import (
	"fmt"
	"strings"
)

// Prompts are the texts a model expects before a query and before a
// document. Embedding without them, or with another model's, quietly
// costs retrieval quality.
type Prompts struct {
	Query    string
	Document string
}

// Conventions a Config can name. ConventionAuto picks one from the
// model's name.
const (
	ConventionAuto  = "auto"
	ConventionNone  = "none"
	ConventionQwen3 = "qwen3" // Qwen3-Embedding: task instruction on queries only
	ConventionE5    = "e5"    // E5: "query: " and "passage: "
	ConventionBGE   = "bge"   // BGE v1.5 (English): instruction on queries only
	ConventionNomic = "nomic" // nomic-embed-text: "search_query: ", "search_document: "
)

// DefaultTask is the task Qwen3-Embedding's query instruction describes,
// the one its model card uses for web search.
const DefaultTask = "Given a web search query, retrieve relevant passages that answer the query"

// bgeInstruction is BGE v1.5's (and mxbai-embed-large's, and
// snowflake-arctic-embed's) retrieval instruction for English queries.
const bgeInstruction = "Represent this sentence for searching relevant passages: "

// PromptsFor returns the prompts of a convention for model; task fills
// Qwen3's instruction (DefaultTask if empty). ConventionAuto (or "")
// recognises the model families above by name and falls back to none.
func PromptsFor(convention, model, task string) (Prompts, error) {
	if convention == "" || convention == ConventionAuto {
		convention = conventionOf(model)
	}
	if task == "" {
		task = DefaultTask
	}
	switch convention {
	case ConventionNone:
		return Prompts{}, nil
	case ConventionQwen3:
		// The model card's format: no space after "Query:".
		return Prompts{Query: "Instruct: " + task + "\nQuery:"}, nil
	case ConventionE5:
		return Prompts{Query: "query: ", Document: "passage: "}, nil
	case ConventionBGE:
		return Prompts{Query: bgeInstruction}, nil
	case ConventionNomic:
		return Prompts{Query: "search_query: ", Document: "search_document: "}, nil
	}
	return Prompts{}, fmt.Errorf("unknown prompt convention %q (want auto, none, qwen3, e5, bge or nomic)", convention)
}

// conventionOf guesses a model's convention from its name or path.
func conventionOf(model string) string {
	m := strings.ToLower(model)
	switch {
	case strings.Contains(m, "qwen3-embedding"):
		return ConventionQwen3
	case strings.Contains(m, "e5-") && !strings.Contains(m, "e5-mistral"):
		// e5-mistral-7b-instruct takes an instruction like Qwen3 instead.
		return ConventionE5
	case strings.Contains(m, "e5-mistral"):
		return ConventionQwen3
	case strings.Contains(m, "bge-") && strings.Contains(m, "-en"),
		strings.Contains(m, "mxbai-embed-large"), strings.Contains(m, "snowflake-arctic-embed"):
		return ConventionBGE
	case strings.Contains(m, "nomic-embed-text"):
		return ConventionNomic
	}
	// all-MiniLM, bge-m3, GloVe, Model2Vec and the rest take plain text.
	return ConventionNone
}
