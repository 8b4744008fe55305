package exa

// Answers written by an LLM for Exa's POST /answer: the query and the top
// results go to an OpenAI-compatible /v1/chat/completions server (vLLM,
// llama.cpp, SGLang, Ollama), which writes a short answer citing them as
// [n]. Any failure of that server falls back to the extractive answer, so
// /answer never fails because of the LLM.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/modelhttp"
	"github.com/cari-search/cari/searcher/rerank"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Defaults of the LLM answers, in one place.
const (
	// DefaultAnswerTimeout bounds the LLM's whole answer, retries and
	// streaming included.
	DefaultAnswerTimeout = 30 * time.Second
	// DefaultAnswerMaxTokens caps the answer's length.
	DefaultAnswerMaxTokens = 512
	// DefaultAnswerAPIKeyEnv holds the chat server's API key when no key
	// file is given.
	DefaultAnswerAPIKeyEnv = "CARI_ANSWER_API_KEY"
)

const (
	answerLLM          = "llm" // answerType of an answer the LLM wrote
	answerTemperature  = 0.2
	answerSourceChars  = 1200 // characters of each source the LLM reads
	answerHighlights   = 3    // highlights asked for per source
	answerMaxRetries   = 1    // retries of a 408, 429, 5xx or network failure
	answerRetryDelay   = 250 * time.Millisecond
	answerMaxBodyBytes = 16 << 20 // a chat answer is small
)

// answerSystemPrompt tells the model how to answer.
const answerSystemPrompt = `You answer questions using only the numbered search results you are given.
Write a concise answer of a few sentences. After each claim, cite the results that support it by number in square brackets, like [1] or [2][3].
If the results do not answer the question, say so briefly. Do not list the sources at the end.`

// AnswerOptions configure the chat model server (the LLM) that writes
// the answers of Exa's POST /answer, result summaries, deep search's query
// variations and outputSchema's output. The zero value writes none:
// answers and summaries are extractive, and what only a model can write is
// a 501.
type AnswerOptions struct {
	// URL is the chat server's API root including /v1
	// (http://127.0.0.1:8002/v1); empty: no LLM.
	URL string
	// Model is the served model's name, sent with every request. Required
	// with URL.
	Model string
	// APIKey, if set, is sent as a bearer token; empty: the key in
	// APIKeyFile, or else $DefaultAnswerAPIKeyEnv (none is fine for a
	// server without keys).
	APIKey rerank.Secret
	// APIKeyFile holds the API key ("": $DefaultAnswerAPIKeyEnv), read
	// from a file so that it stays out of process listings.
	APIKeyFile string
	// Timeout bounds one answer, retries and streaming included (default
	// DefaultAnswerTimeout); past it the answer is extractive.
	Timeout time.Duration
	// MaxTokens caps the answer (default DefaultAnswerMaxTokens).
	MaxTokens int
	// HTTPClient sends the requests (default: http.DefaultClient).
	HTTPClient *http.Client
}

// chatPath is the chat server's endpoint under its API root.
const chatPath = "/chat/completions"

// llmAnswerer asks a chat server for answers.
type llmAnswerer struct {
	opts   AnswerOptions
	client modelhttp.Client
	log    *slog.Logger
}

// newLLMAnswerer checks o; no URL means no LLM, a nil answerer.
func newLLMAnswerer(o AnswerOptions, log *slog.Logger) (*llmAnswerer, error) {
	if o.URL == "" {
		return nil, nil
	}
	if err := modelhttp.CheckServer(o.URL, o.Model); err != nil {
		return nil, fmt.Errorf("answer LLM: %w", err)
	}
	if o.APIKey == "" {
		key, err := modelhttp.LoadAPIKey(o.APIKeyFile, DefaultAnswerAPIKeyEnv)
		if err != nil {
			return nil, fmt.Errorf("answer LLM: API key file: %w", err)
		}
		o.APIKey = rerank.Secret(key)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultAnswerTimeout
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultAnswerMaxTokens
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// One quick retry of a 408, 429, 5xx or network failure, while the
	// answer's time allows; the whole answer has Timeout, no attempt its own.
	client := modelhttp.Client{BaseURL: o.URL, APIKey: string(o.APIKey), HTTPClient: o.HTTPClient,
		Retry: modelhttp.Retry{MaxRetries: answerMaxRetries, FitDeadline: true,
			Delay: func(int, time.Duration) time.Duration { return answerRetryDelay }}}
	return &llmAnswerer{opts: o, client: client, log: log}, nil
}

// answerSource is one search result as the LLM reads it.
type answerSource struct {
	title, url, excerpt string
}

// llmSources picks the results with text to quote, as sources numbered
// from 1 and the citations of the same numbers.
func llmSources(resp *cariv1.SearchResponse, withText bool) ([]answerSource, []exaResult) {
	var sources []answerSource
	cites := []exaResult{}
	for _, r := range resp.GetResults() {
		var parts []string
		for _, h := range r.GetHighlights() {
			if h = strings.TrimSpace(h); h != "" {
				parts = append(parts, h)
			}
		}
		excerpt := strings.Join(parts, " … ")
		if excerpt == "" {
			excerpt = strings.TrimSpace(r.GetText())
		}
		if excerpt == "" {
			continue
		}
		sources = append(sources, answerSource{title: r.GetTitle(), url: r.GetUrl(), excerpt: cari.Truncate(excerpt, answerSourceChars, "…")})
		cites = append(cites, exaResultOf(r, exaWant{text: withText}, true))
	}
	return sources, cites
}

// request is the chat request that asks for an answer to query from
// sources, with the caller's systemPrompt, if any, after Cari's.
func (l *llmAnswerer) request(query string, sources []answerSource, systemPrompt string, stream bool) modelhttp.ChatRequest {
	req := l.chatRequest(withSystemPrompt(answerSystemPrompt, systemPrompt), answerPrompt(query, sources))
	req.Stream = &stream
	return req
}

// answerPrompt is the user message that gives the model query and the
// numbered sources.
func answerPrompt(query string, sources []answerSource) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Question: %s\n\nSearch results:\n", query)
	for i, s := range sources {
		fmt.Fprintf(&b, "\n[%d] %s\nURL: %s\n%s\n", i+1, s.title, s.url, s.excerpt)
	}
	return b.String()
}

// chatRequest is a request for one reply, not streamed, to system's
// instructions and the user's message.
func (l *llmAnswerer) chatRequest(system, user string) modelhttp.ChatRequest {
	stream := false
	return modelhttp.ChatRequest{
		Model:              l.opts.Model,
		Messages:           []modelhttp.ChatMessage{{Role: "system", Content: system}, {Role: "user", Content: user}},
		MaxTokens:          l.opts.MaxTokens,
		Temperature:        answerTemperature,
		Stream:             &stream,
		ChatTemplateKwargs: modelhttp.NoThinking(),
	}
}

// post sends req and returns a 200 response, its body a stream of events
// when req asks for one.
func (l *llmAnswerer) post(ctx context.Context, req modelhttp.ChatRequest) (*http.Response, error) {
	accept := "application/json"
	if *req.Stream {
		accept = "text/event-stream"
	}
	return l.client.Open(ctx, chatPath, req, accept)
}

// complete asks for the whole answer at once.
func (l *llmAnswerer) complete(ctx context.Context, req modelhttp.ChatRequest) (string, error) {
	resp, err := l.post(ctx, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, answerMaxBodyBytes))
	if err != nil {
		if ctx.Err() != nil {
			return "", context.Cause(ctx)
		}
		return "", fmt.Errorf("read answer: %w", err)
	}
	return completionText(data)
}

// completionText is the answer in a chat completion body.
func completionText(data []byte) (string, error) {
	var c modelhttp.ChatCompletion
	if err := json.Unmarshal(data, &c); err != nil {
		return "", fmt.Errorf("malformed answer: %w", err)
	}
	content, ok := c.Content()
	if !ok {
		return "", errors.New("malformed answer: no choices[0].message.content")
	}
	text := strings.TrimSpace(modelhttp.StripThinking(content))
	if text == "" {
		return "", errors.New("the answer is empty")
	}
	return text, nil
}

// stream asks for the answer streamed, handing each piece to emit as it
// comes, and returns the whole text. A server that answers with one JSON
// body instead of events is read as one piece.
func (l *llmAnswerer) stream(ctx context.Context, req modelhttp.ChatRequest, emit func(string)) (string, error) {
	resp, err := l.post(ctx, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		data, err := io.ReadAll(io.LimitReader(resp.Body, answerMaxBodyBytes))
		if err != nil {
			return "", fmt.Errorf("read answer: %w", err)
		}
		text, err := completionText(data)
		if err == nil {
			emit(text)
		}
		return text, err
	}
	return modelhttp.ReadChatStream(ctx, resp.Body, emit)
}

// describeLLMError says why the LLM gave no answer, for the fallback
// warning.
func (l *llmAnswerer) describeLLMError(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("the LLM (%s) did not answer within %s", l.opts.Model, l.opts.Timeout)
	}
	return fmt.Sprintf("the LLM (%s) failed: %v", l.opts.Model, err)
}

// answerResponse asks the LLM to answer from resp's results, falling back
// to the extractive answer, with the reason, when it cannot.
func (l *llmAnswerer) answerResponse(ctx context.Context, query, systemPrompt string, resp *cariv1.SearchResponse, withText bool) *exaAnswerResponse {
	sources, cites := llmSources(resp, withText)
	if len(sources) == 0 {
		return extractiveAnswer(resp, withText)
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	text, err := l.complete(ctx, l.request(query, sources, systemPrompt, false))
	if err != nil {
		return l.fallback(resp, withText, err)
	}
	return &exaAnswerResponse{RequestID: resp.GetRequestId(), Answer: text, Citations: cites, AnswerType: answerLLM, Model: l.opts.Model}
}

// fallback is the extractive answer, saying why the LLM's is missing.
func (l *llmAnswerer) fallback(resp *cariv1.SearchResponse, withText bool, err error) *exaAnswerResponse {
	reason := l.describeLLMError(err)
	l.log.Warn("answer LLM failed; answering extractively", "model", l.opts.Model, "error", err)
	out := extractiveAnswer(resp, withText)
	out.LLMError = reason
	out.Warnings = append(out.Warnings, "answer: "+reason+"; answered extractively")
	return out
}

// streamResponse streams the LLM's answer to c as it is written. Until the
// first piece arrives a failure falls back to the extractive answer; after
// it, the answer ends where the LLM stopped and the last event says so.
func (l *llmAnswerer) streamResponse(c *exaCall, query, systemPrompt string, resp *cariv1.SearchResponse, withText bool, warnings []string) {
	sources, cites := llmSources(resp, withText)
	if len(sources) == 0 {
		out := extractiveAnswer(resp, withText)
		out.Warnings = warnings
		streamAnswer(c.w, out)
		return
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), l.opts.Timeout)
	defer cancel()
	var s *answerStream
	text, err := l.stream(ctx, l.request(query, sources, systemPrompt, true), func(piece string) {
		if s == nil {
			s = newAnswerStream(c.w, resp.GetRequestId(), l.opts.Model)
		}
		s.piece(piece, answerLLM)
	})
	if err == nil && s == nil {
		err = errors.New("the answer is empty")
	}
	if err != nil && s == nil {
		out := l.fallback(resp, withText, err)
		out.Warnings = append(warnings, out.Warnings...)
		streamAnswer(c.w, out)
		return
	}
	out := &exaAnswerResponse{RequestID: resp.GetRequestId(), Answer: text, Citations: cites, AnswerType: answerLLM, Model: l.opts.Model, Warnings: warnings}
	if err != nil {
		l.log.Warn("answer LLM stream broke off", "model", l.opts.Model, "error", err)
		out.LLMError = l.describeLLMError(err)
		out.Warnings = append(out.Warnings, "answer: "+out.LLMError+" while streaming; the answer is incomplete")
	}
	s.finish(out)
}
