package rerank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/modelhttp"
	"github.com/cari-search/cari/searcher"
)

// RankGPT's prompt (Sun et al., 2023, "Is ChatGPT Good at Search?"), the
// reference for listwise re-ranking with a chat model.
const (
	listwiseSystem = "You are RankGPT, an intelligent assistant that can rank passages based on their relevancy to the query."
	listwiseIntro  = "I will provide you with %d passages, each indicated by number identifier []. \nRank the passages based on their relevance to query: %s."
	listwiseAck    = "Okay, please provide the passages."
	listwiseGot    = "Received passage [%d]."
	listwiseAsk    = "Search Query: %s. \nRank the %d passages above based on their relevance to the search query. The passages should be listed in descending order using identifiers. The most relevant passages should be listed first. The output format should be [] > [], e.g., [1] > [2]. Only response the ranking results, do not say any word or explain."
)

// Listwise defaults: RankGPT's window and step.
const (
	DefaultWindow = 20
	DefaultStep   = 10
)

// ListwiseOptions configure a listwise chat re-ranker.
type ListwiseOptions struct {
	Server
	// Window is how many candidates one request ranks; Step how far the
	// window moves up each time (defaults DefaultWindow, DefaultStep).
	Window, Step int
	// MaxTokens bounds the answer (default: 8 tokens per candidate of a
	// window, and 32 more).
	MaxTokens int
	// AllowThinking: as in ChatOptions.
	AllowThinking bool
}

// Listwise has a chat model order the candidates RankGPT's way: a window
// of candidates per request, the window sliding from the bottom of the
// list to the top so that a good candidate can rise all the way. It needs
// no logprobs, so it suits any chat server; windows run one after another,
// so it costs (n - Window) / Step + 1 generations in sequence per query.
type Listwise struct {
	opts   ListwiseOptions
	client *client
	name   string
}

// NewListwise checks opts and returns a re-ranker; it sends nothing.
func NewListwise(opts ListwiseOptions) (*Listwise, error) {
	if err := opts.check("listwise", true); err != nil {
		return nil, err
	}
	if opts.Window <= 1 {
		opts.Window = DefaultWindow
	}
	if opts.Step <= 0 {
		opts.Step = DefaultStep
	}
	if opts.Step >= opts.Window {
		return nil, fmt.Errorf("listwise re-ranker: step %d must be smaller than the window %d", opts.Step, opts.Window)
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = 8*opts.Window + 32
	}
	l := &Listwise{opts: opts, client: newClient(opts.Server)}
	l.opts.Server = l.client.srv
	l.name = fmt.Sprintf("chat-listwise/%s/w%d-s%d", opts.Model, opts.Window, opts.Step)
	return l, nil
}

// Name identifies the model and window, for the score cache.
func (l *Listwise) Name() string { return l.name }

// String is the name, so that printing a re-ranker shows no API key.
func (l *Listwise) String() string { return l.name }

// SetDependent reports that Listwise's scores rank candidates only within
// one call: a score of one call is not comparable with another call's, so
// a cache must not mix them.
func (l *Listwise) SetDependent() bool { return true }

// Rerank orders the candidates and scores them by their final position:
// n for the first, 1 for the last.
func (l *Listwise) Rerank(ctx context.Context, query string, cands []searcher.Candidate) ([]float64, error) {
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	for _, w := range windows(len(cands), l.opts.Window, l.opts.Step) {
		seg := order[w.start:w.end]
		perm, err := l.rankWindow(ctx, query, cands, seg)
		if err != nil {
			return nil, fmt.Errorf("listwise re-ranker, window %d-%d: %w", w.start+1, w.end, err)
		}
		ranked := make([]int, len(seg))
		for k, p := range perm {
			ranked[k] = seg[p]
		}
		copy(seg, ranked)
	}
	scores := make([]float64, len(cands))
	for pos, i := range order {
		scores[i] = float64(len(cands) - pos)
	}
	return scores, nil
}

// span is a window: positions [start, end) of the current order.
type span struct{ start, end int }

// windows lists the windows from the bottom of n candidates to the top.
// Unlike RankGPT's reference loop, the last window always starts at the
// top, so no head of the list is left unranked.
func windows(n, size, step int) []span {
	if n <= 1 {
		return nil
	}
	var out []span
	for end := n; ; end -= step {
		start := max(0, end-size)
		out = append(out, span{start, end})
		if start == 0 {
			return out
		}
	}
}

// rankWindow asks the model to order cands[seg[0]], cands[seg[1]], ... and
// returns the permutation of positions in seg, best first.
func (l *Listwise) rankWindow(ctx context.Context, query string, cands []searcher.Candidate, seg []int) ([]int, error) {
	var answer string
	err := l.client.post(ctx, "/chat/completions", l.listwiseRequest(query, cands, seg), func(b []byte) error {
		var resp modelhttp.ChatCompletion
		if err := json.Unmarshal(b, &resp); err != nil {
			return err
		}
		var ok bool
		if answer, ok = resp.Content(); !ok {
			return errors.New("no answer text")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	perm, repaired, err := parsePermutation(answer, len(seg))
	if err != nil {
		return nil, err
	}
	if repaired {
		l.opts.Logger.Debug("listwise answer repaired: missing identifiers appended in first-stage order", "answer", cari.Truncate(answer, 200, "..."))
	}
	return perm, nil
}

// listwiseRequest is RankGPT's conversation for one window.
func (l *Listwise) listwiseRequest(query string, cands []searcher.Candidate, seg []int) modelhttp.ChatRequest {
	msgs := []modelhttp.ChatMessage{
		{Role: "system", Content: listwiseSystem},
		{Role: "user", Content: fmt.Sprintf(listwiseIntro, len(seg), query)},
		{Role: "assistant", Content: listwiseAck},
	}
	for k, i := range seg {
		msgs = append(msgs,
			modelhttp.ChatMessage{Role: "user", Content: fmt.Sprintf("[%d] %s", k+1, oneLine(documentText(cands[i])))},
			modelhttp.ChatMessage{Role: "assistant", Content: fmt.Sprintf(listwiseGot, k+1)})
	}
	msgs = append(msgs, modelhttp.ChatMessage{Role: "user", Content: fmt.Sprintf(listwiseAsk, query, len(seg))})
	return modelhttp.ChatRequest{
		Model:              l.opts.Model,
		Messages:           msgs,
		MaxTokens:          l.opts.MaxTokens,
		Temperature:        0,
		ChatTemplateKwargs: templateKwargs(l.opts.AllowThinking),
	}
}

// oneLine collapses runs of white space, as RankGPT does to passages.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// parsePermutation reads a ranking such as "[3] > [1] > [2]" of n
// identifiers (1-based) into 0-based positions, best first. It takes the
// bracketed numbers, or every number when there are none; it skips
// identifiers out of range and repeats, and appends the ones missing in
// their original order. repaired says whether any of that was needed. An
// answer with no usable identifier is an error. A reasoning model's
// "<think>...</think>" preamble is skipped.
func parsePermutation(answer string, n int) (perm []int, repaired bool, err error) {
	if i := strings.LastIndex(answer, "</think>"); i >= 0 {
		answer = answer[i+len("</think>"):]
	}
	ids := numbers(answer, true)
	if len(ids) == 0 {
		ids = numbers(answer, false)
	}
	seen := make([]bool, n)
	for _, id := range ids {
		if id < 1 || id > n || seen[id-1] {
			repaired = true
			continue
		}
		seen[id-1] = true
		perm = append(perm, id-1)
	}
	if len(perm) == 0 {
		return nil, false, fmt.Errorf("answer %q holds no passage identifier between 1 and %d", cari.Truncate(answer, 80, "..."), n)
	}
	for i, ok := range seen {
		if !ok {
			perm = append(perm, i)
			repaired = true
		}
	}
	return perm, repaired, nil
}

// numbers returns the decimal numbers in s, only those directly inside
// square brackets when bracketed is set.
func numbers(s string, bracketed bool) []int {
	var out []int
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			continue
		}
		j := i
		v := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if v < 1<<20 {
				v = v*10 + int(s[j]-'0')
			}
			j++
		}
		if !bracketed || (i > 0 && s[i-1] == '[' && j < len(s) && s[j] == ']') {
			out = append(out, v)
		}
		i = j
	}
	return out
}
