package rerank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/modelhttp"
	"github.com/cari-search/cari/searcher"
)

// Qwen3-Reranker's prompt, which the pointwise re-ranker sends to any chat
// model: the model card's system message and user message, with its
// default instruction.
const (
	pointwiseSystem    = `Judge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".`
	pointwiseUser      = "<Instruct>: %s\n<Query>: %s\n<Document>: %s"
	DefaultInstruction = "Given a web search query, retrieve relevant passages that answer the query"
	// DefaultTopLogprobs is how many alternatives of the answer token are
	// asked for: enough to hold both "yes" and "no" and their spellings.
	DefaultTopLogprobs = 5
)

// ChatOptions configure a pointwise chat re-ranker.
type ChatOptions struct {
	Server
	// Instruction fills Qwen3-Reranker's <Instruct> line (default
	// DefaultInstruction).
	Instruction string
	// Concurrency caps the requests in flight for one query (default
	// DefaultConcurrency).
	Concurrency int
	// TopLogprobs is the number of alternatives asked for the one answer
	// token (default DefaultTopLogprobs).
	TopLogprobs int
	// AllowThinking stops Cari from sending chat_template_kwargs
	// {"enable_thinking": false}. Qwen3's chat template reads it and
	// writes the empty thinking block Qwen3-Reranker expects; without it a
	// Qwen3 model spends its one token on "<think>". Servers that do not
	// know the field ignore it.
	AllowThinking bool
}

// Chat asks a chat model, one candidate per request, whether the candidate
// answers the query, and scores it by the probability of "yes" against
// "no" in the logprobs of the answer token: Qwen3-Reranker's method,
// through any OpenAI-compatible /v1/chat/completions server (vLLM,
// llama.cpp, SGLang, Ollama). A server that returns no logprobs gets
// scores of 1 and 0 from the answer's text; the listwise re-ranker orders
// better there.
type Chat struct {
	opts    ChatOptions
	client  *client
	name    string
	noProbs sync.Once
}

// NewChat checks opts and returns a re-ranker; it sends nothing.
func NewChat(opts ChatOptions) (*Chat, error) {
	if err := opts.check("chat", true); err != nil {
		return nil, err
	}
	if opts.Instruction == "" {
		opts.Instruction = DefaultInstruction
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.TopLogprobs <= 0 {
		opts.TopLogprobs = DefaultTopLogprobs
	}
	c := &Chat{opts: opts, client: newClient(opts.Server)}
	c.opts.Server = c.client.srv
	c.name = "chat-pointwise/" + opts.Model
	if opts.Instruction != DefaultInstruction {
		c.name += "#" + shortHash(opts.Instruction)
	}
	return c, nil
}

// ErrNoLogprobs is Check's refusal of a chat server that returns no
// logprobs, on which pointwise scores could only be 1 or 0.
var ErrNoLogprobs = errors.New("the chat server returned no logprobs, so pointwise scores could only be 1 or 0 (Ollama before 0.12.11 returns none): use --reranker listwise, or a server that returns logprobs (vLLM, llama.cpp, SGLang, Ollama 0.12.11 or later)")

// Check is the start-up test of the server: one judgement of a fixed
// pair, which must come back with logprobs (ErrNoLogprobs otherwise).
// Rerank on a server without them scores 1 or 0 from the answer's text.
func (c *Chat) Check(ctx context.Context) error {
	var resp modelhttp.ChatCompletion
	probe := searcher.Candidate{Passage: "Krill are small crustaceans that baleen whales eat."}
	err := c.client.post(ctx, "/chat/completions", c.pointwiseRequest("what do whales eat", probe), func(b []byte) error {
		return json.Unmarshal(b, &resp)
	})
	if err != nil {
		return fmt.Errorf("chat re-ranker: %w", err)
	}
	if len(resp.Choices) == 0 || resp.Choices[0].Logprobs == nil || len(resp.Choices[0].Logprobs.Content) == 0 {
		return fmt.Errorf("chat re-ranker, model %s: %w", c.opts.Model, ErrNoLogprobs)
	}
	return nil
}

// Name identifies the model and instruction, for the score cache.
func (c *Chat) Name() string { return c.name }

// String is the name, so that printing a re-ranker shows no API key.
func (c *Chat) String() string { return c.name }

// Rerank scores every candidate, Concurrency requests at a time. One
// failed request fails the whole call, so that the searcher keeps the
// first-stage order rather than mixing judged and unjudged candidates.
func (c *Chat) Rerank(ctx context.Context, query string, cands []searcher.Candidate) ([]float64, error) {
	scores := make([]float64, len(cands))
	err := forEach(ctx, len(cands), c.opts.Concurrency, func(ctx context.Context, i int) error {
		s, err := c.judge(ctx, query, cands[i])
		if err != nil {
			return fmt.Errorf("chat re-ranker, candidate %d (%s): %w", i, cands[i].Document.ID, err)
		}
		scores[i] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return scores, nil
}

func templateKwargs(allowThinking bool) map[string]any {
	if allowThinking {
		return nil
	}
	return modelhttp.NoThinking()
}

// pointwiseRequest is the request that judges one candidate.
func (c *Chat) pointwiseRequest(query string, cand searcher.Candidate) modelhttp.ChatRequest {
	return modelhttp.ChatRequest{
		Model: c.opts.Model,
		Messages: []modelhttp.ChatMessage{
			{Role: "system", Content: pointwiseSystem},
			{Role: "user", Content: fmt.Sprintf(pointwiseUser, c.opts.Instruction, query, documentText(cand))},
		},
		MaxTokens:          1,
		Temperature:        0,
		Logprobs:           true,
		TopLogprobs:        c.opts.TopLogprobs,
		ChatTemplateKwargs: templateKwargs(c.opts.AllowThinking),
	}
}

// judge asks about one candidate and returns P(yes) / (P(yes) + P(no)).
func (c *Chat) judge(ctx context.Context, query string, cand searcher.Candidate) (float64, error) {
	var resp modelhttp.ChatCompletion
	err := c.client.post(ctx, "/chat/completions", c.pointwiseRequest(query, cand), func(b []byte) error {
		if err := json.Unmarshal(b, &resp); err != nil {
			return err
		}
		if len(resp.Choices) == 0 {
			return errors.New("no choices")
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	ch := resp.Choices[0]
	if s, ok, err := logprobJudgement(ch); ok || err != nil {
		return s, err
	}
	if ch.Logprobs == nil || len(ch.Logprobs.Content) == 0 {
		c.noProbs.Do(func() {
			c.opts.Logger.Warn("the chat server returned no logprobs: pointwise scores are 1 or 0 from the answer text; --reranker listwise orders better on such a server", "model", c.opts.Model)
		})
	}
	return textJudgement(ch)
}

// logprobJudgement scores from the answer token's alternatives. ok is
// false when there are none or they hold neither "yes" nor "no". Of the
// two, one missing from the alternatives is taken at its largest possible
// probability: the least of the listed ones and of the mass they leave.
func logprobJudgement(ch modelhttp.ChatChoice) (score float64, ok bool, err error) {
	if ch.Logprobs == nil || len(ch.Logprobs.Content) == 0 {
		return 0, false, nil
	}
	first := ch.Logprobs.Content[0]
	type alt struct {
		token   string
		logprob float64
	}
	alts := []alt{{first.Token, first.Logprob}}
	if len(first.TopLogprobs) > 0 {
		alts = alts[:0]
		for _, t := range first.TopLogprobs {
			alts = append(alts, alt{t.Token, t.Logprob})
		}
	}
	var pYes, pNo, listed float64
	least := 1.0
	for _, a := range alts {
		if math.IsNaN(a.logprob) || a.logprob > 1e-6 {
			return 0, false, fmt.Errorf("logprob %v of %q is not a log-probability", a.logprob, a.token)
		}
		p := math.Exp(min(a.logprob, 0))
		listed += p
		least = min(least, p)
		switch answerWord(a.token) {
		case "yes":
			pYes += p
		case "no":
			pNo += p
		}
	}
	if pYes == 0 && pNo == 0 {
		return 0, false, nil
	}
	bound := min(least, max(0, 1-listed))
	if pYes == 0 {
		pYes = bound
	}
	if pNo == 0 {
		pNo = bound
	}
	return pYes / (pYes + pNo), true, nil
}

// textJudgement scores 1 for an answer of yes, 0 for no.
func textJudgement(ch modelhttp.ChatChoice) (float64, error) {
	if ch.Message.Content == nil {
		return 0, errors.New("answer has no content and no logprobs")
	}
	text := *ch.Message.Content
	switch answerWord(text) {
	case "yes":
		return 1, nil
	case "no":
		return 0, nil
	}
	if strings.HasPrefix(strings.TrimSpace(text), "<think>") {
		return 0, errors.New(`the model answered "<think>": it is a thinking model whose chat template ignored enable_thinking=false; use a non-thinking model or template`)
	}
	return 0, fmt.Errorf("answer %q is neither yes nor no", cari.Truncate(text, 40, "..."))
}

// answerWord normalises a token or an answer: case, spaces, the
// SentencePiece word mark and trailing punctuation do not matter.
func answerWord(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "▁"))
	s = strings.TrimRight(s, ".!,;:")
	return strings.ToLower(s)
}

// documentText is what a model reads of a candidate: its title, then its
// passage (or the start of its text).
func documentText(c searcher.Candidate) string {
	text := c.Passage
	if text == "" {
		text = cari.Truncate(c.Document.Text, searcher.DefaultRerank.PassageChars, "")
	}
	title := strings.TrimSpace(c.Document.Title)
	if title == "" || strings.HasPrefix(text, title) {
		return text
	}
	return title + "\n" + text
}

func shortHash(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("%08x", h.Sum32())
}
