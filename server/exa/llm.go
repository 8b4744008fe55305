package exa

// Answers written by an LLM for Exa's POST /answer: the query and the top
// results go to an OpenAI-compatible /v1/chat/completions server (vLLM,
// llama.cpp, SGLang, Ollama), which writes a short answer citing them as
// [n]. Any failure of that server falls back to the extractive answer, so
// /answer never fails because of the LLM.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

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

// AnswerOptions configure the LLM that writes the answers of Exa's POST
// /answer. The zero value writes none: answers are extractive.
type AnswerOptions struct {
	// URL is the chat server's API root including /v1
	// (http://127.0.0.1:8002/v1); empty: no LLM.
	URL string
	// Model is the served model's name, sent with every request. Required
	// with URL.
	Model string
	// APIKey, if set, is sent as a bearer token.
	APIKey rerank.Secret
	// Timeout bounds one answer, retries and streaming included (default
	// DefaultAnswerTimeout); past it the answer is extractive.
	Timeout time.Duration
	// MaxTokens caps the answer (default DefaultAnswerMaxTokens).
	MaxTokens int
	// HTTPClient sends the requests (default: http.DefaultClient).
	HTTPClient *http.Client
}

// llmAnswerer asks a chat server for answers.
type llmAnswerer struct {
	opts     AnswerOptions
	endpoint string
	log      *slog.Logger
}

// newLLMAnswerer checks o; no URL means no LLM, a nil answerer.
func newLLMAnswerer(o AnswerOptions, log *slog.Logger) (*llmAnswerer, error) {
	if o.URL == "" {
		return nil, nil
	}
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		return nil, fmt.Errorf("answer LLM: server URL %q is not http(s)", o.URL)
	}
	if o.Model == "" {
		return nil, errors.New("answer LLM: model name is required with a server URL")
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
	return &llmAnswerer{opts: o, endpoint: strings.TrimRight(o.URL, "/") + "/chat/completions", log: log}, nil
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
		sources = append(sources, answerSource{title: r.GetTitle(), url: r.GetUrl(), excerpt: truncateChars(excerpt, answerSourceChars)})
		cites = append(cites, exaResultOf(r, exaWant{text: withText}, true))
	}
	return sources, cites
}

func truncateChars(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// llmMessage is one message of a chat completion request.
type llmMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// llmRequest is the body of POST /v1/chat/completions.
type llmRequest struct {
	Model       string       `json:"model"`
	Messages    []llmMessage `json:"messages"`
	MaxTokens   int          `json:"max_tokens"`
	Temperature float64      `json:"temperature"`
	Stream      bool         `json:"stream"`
	// ChatTemplateKwargs turns off the thinking of Qwen3 and DeepSeek
	// templates, which would spend the token budget before the answer.
	// Servers that do not know the field ignore it.
	ChatTemplateKwargs map[string]any `json:"chat_template_kwargs"`
}

// request is the chat request that asks for an answer to query from
// sources.
func (l *llmAnswerer) request(query string, sources []answerSource, stream bool) llmRequest {
	var b strings.Builder
	fmt.Fprintf(&b, "Question: %s\n\nSearch results:\n", query)
	for i, s := range sources {
		fmt.Fprintf(&b, "\n[%d] %s\nURL: %s\n%s\n", i+1, s.title, s.url, s.excerpt)
	}
	return llmRequest{
		Model:              l.opts.Model,
		Messages:           []llmMessage{{Role: "system", Content: answerSystemPrompt}, {Role: "user", Content: b.String()}},
		MaxTokens:          l.opts.MaxTokens,
		Temperature:        answerTemperature,
		Stream:             stream,
		ChatTemplateKwargs: map[string]any{"enable_thinking": false},
	}
}

// post sends req and returns a 200 response, retrying a 408, 429, 5xx or
// network failure once while the context allows.
func (l *llmAnswerer) post(ctx context.Context, req llmRequest) (*http.Response, error) {
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	accept := "application/json"
	if req.Stream {
		accept = "text/event-stream"
	}
	retry := modelhttp.Retry{MaxRetries: answerMaxRetries, FitDeadline: true,
		Delay: func(int, time.Duration) time.Duration { return answerRetryDelay }}
	var resp *http.Response
	err = retry.Do(ctx, func() error {
		hr, err := modelhttp.NewRequest(ctx, l.endpoint, payload, accept, string(l.opts.APIKey))
		if err != nil {
			return err
		}
		resp, err = modelhttp.Send(l.opts.HTTPClient, hr)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, err
	}
	return resp, nil
}

// llmCompletion is the part of a chat completion, or of one chunk of a
// streamed one, that Cari reads.
type llmCompletion struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Error json.RawMessage `json:"error"`
}

// complete asks for the whole answer at once.
func (l *llmAnswerer) complete(ctx context.Context, req llmRequest) (string, error) {
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
	var c llmCompletion
	if err := json.Unmarshal(data, &c); err != nil {
		return "", fmt.Errorf("malformed answer: %w", err)
	}
	if len(c.Choices) == 0 || c.Choices[0].Message.Content == nil {
		return "", errors.New("malformed answer: no choices[0].message.content")
	}
	text := strings.TrimSpace(stripThinking(*c.Choices[0].Message.Content))
	if text == "" {
		return "", errors.New("the answer is empty")
	}
	return text, nil
}

// stripThinking drops a leading <think> block, which a template that
// ignores enable_thinking=false leaves in the answer.
func stripThinking(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "<think>") {
		return s
	}
	if _, after, ok := strings.Cut(t, "</think>"); ok {
		return after
	}
	return ""
}

// stream asks for the answer streamed, handing each piece to emit as it
// comes, and returns the whole text. A server that answers with one JSON
// body instead of events is read as one piece.
func (l *llmAnswerer) stream(ctx context.Context, req llmRequest, emit func(string)) (string, error) {
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
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue // blank lines, comments, event: and id: lines
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			return text.String(), nil
		}
		var c llmCompletion
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return text.String(), fmt.Errorf("malformed stream event %q: %w", truncateChars(data, 80), err)
		}
		if len(c.Error) > 0 {
			return text.String(), fmt.Errorf("stream error: %s", modelhttp.ErrorMessage(data2body(c.Error)))
		}
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			piece := c.Choices[0].Delta.Content
			text.WriteString(piece)
			emit(piece)
		}
	}
	if ctx.Err() != nil {
		return text.String(), context.Cause(ctx)
	}
	if err := sc.Err(); err != nil {
		return text.String(), fmt.Errorf("read stream: %w", err)
	}
	if text.Len() == 0 {
		return "", errors.New("the stream ended without an answer or [DONE]")
	}
	return text.String(), nil // some servers end without [DONE]
}

// data2body wraps an error value as the body modelhttp.ErrorMessage reads.
func data2body(e json.RawMessage) []byte {
	return append(append([]byte(`{"error":`), e...), '}')
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
func (l *llmAnswerer) answerResponse(ctx context.Context, query string, resp *cariv1.SearchResponse, withText bool) *exaAnswerResponse {
	sources, cites := llmSources(resp, withText)
	if len(sources) == 0 {
		return extractiveAnswer(resp, withText)
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	text, err := l.complete(ctx, l.request(query, sources, false))
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
func (l *llmAnswerer) streamResponse(c *exaCall, query string, resp *cariv1.SearchResponse, withText bool, warnings []string) {
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
	text, err := l.stream(ctx, l.request(query, sources, true), func(piece string) {
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
