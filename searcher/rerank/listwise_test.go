package rerank

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cari-search/cari/searcher"
)

func TestParsePermutation(t *testing.T) {
	for _, tc := range []struct {
		answer   string
		n        int
		want     []int
		repaired bool
		err      bool
	}{
		{answer: "[3] > [1] > [2]", n: 3, want: []int{2, 0, 1}},
		{answer: "  [2]>[3]>[1]\n", n: 3, want: []int{1, 2, 0}},
		{answer: "[2] > [1]", n: 4, want: []int{1, 0, 2, 3}, repaired: true},
		{answer: "[2] > [2] > [1] > [3]", n: 3, want: []int{1, 0, 2}, repaired: true},
		{answer: "[9] > [0] > [3] > [1] > [2]", n: 3, want: []int{2, 0, 1}, repaired: true},
		{answer: "3 > 1 > 2", n: 3, want: []int{2, 0, 1}},
		{answer: "The ranking is: [3] > [1] > [2] (passage 2 is off topic)", n: 3, want: []int{2, 0, 1}},
		{answer: "<think>\nPassage [1] mentions 2 things, [3] is best.\n</think>\n\n[3] > [2] > [1]", n: 3, want: []int{2, 1, 0}},
		{answer: "[12] > [10] > [11]", n: 12, want: []int{11, 9, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8}, repaired: true},
		{answer: "[99999999999999999999] > [1]", n: 2, want: []int{0, 1}, repaired: true},
		{answer: "I cannot rank these passages.", n: 3, err: true},
		{answer: "[7] > [8]", n: 3, err: true},
		{answer: "", n: 3, err: true},
	} {
		got, repaired, err := parsePermutation(tc.answer, tc.n)
		if tc.err {
			if err == nil {
				t.Errorf("parsePermutation(%q) = %v, want an error", tc.answer, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) || repaired != tc.repaired {
			t.Errorf("parsePermutation(%q, %d) = %v, %v, %v; want %v, repaired %v", tc.answer, tc.n, got, repaired, err, tc.want, tc.repaired)
		}
	}
}

func TestWindows(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []span
	}{
		{0, nil},
		{1, nil},
		{2, []span{{0, 2}}},
		{20, []span{{0, 20}}},
		{25, []span{{5, 25}, {0, 15}}},
		{50, []span{{30, 50}, {20, 40}, {10, 30}, {0, 20}}},
	} {
		if got := windows(tc.n, 20, 10); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("windows(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestListwiseSendsRankGPTConversation(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) {
		writeJSON(w, 200, ollamaAnswer("[3] > [1] > [2]"))
	})
	s := quick(srv.v1())
	s.APIKey = "k"
	l, err := NewListwise(ListwiseOptions{Server: s})
	if err != nil {
		t.Fatal(err)
	}
	cands := []searcher.Candidate{cand("a", "Oceans", "Tides and\n\ncurrents."), cand("b", "", "Reefs."), cand("c", "Whales", "They eat krill.")}
	scores, err := l.Rerank(context.Background(), "what do whales eat", cands)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(scores, []float64{2, 1, 3}) {
		t.Errorf("scores %v, want [2 1 3] from the order c, a, b", scores)
	}
	reqs := srv.recorded()
	if len(reqs) != 1 {
		t.Fatalf("%d requests for one window", len(reqs))
	}
	r := reqs[0]
	if r.path != "/v1/chat/completions" || r.auth != "Bearer k" {
		t.Errorf("request to %s with auth %q", r.path, r.auth)
	}
	if got := keys(r.body); !reflect.DeepEqual(got, []string{"chat_template_kwargs", "max_tokens", "messages", "model", "temperature"}) {
		t.Errorf("request fields %v: listwise asks for no logprobs", got)
	}
	if r.body["model"] != "test-model" || r.body["temperature"] != 0.0 || r.body["max_tokens"] != 192.0 {
		t.Errorf("request %s", r.raw)
	}
	type msg = map[string]any
	want := []any{
		msg{"role": "system", "content": "You are RankGPT, an intelligent assistant that can rank passages based on their relevancy to the query."},
		msg{"role": "user", "content": "I will provide you with 3 passages, each indicated by number identifier []. \nRank the passages based on their relevance to query: what do whales eat."},
		msg{"role": "assistant", "content": "Okay, please provide the passages."},
		msg{"role": "user", "content": "[1] Oceans Tides and currents."},
		msg{"role": "assistant", "content": "Received passage [1]."},
		msg{"role": "user", "content": "[2] Reefs."},
		msg{"role": "assistant", "content": "Received passage [2]."},
		msg{"role": "user", "content": "[3] Whales They eat krill."},
		msg{"role": "assistant", "content": "Received passage [3]."},
		msg{"role": "user", "content": "Search Query: what do whales eat. \nRank the 3 passages above based on their relevance to the search query. The passages should be listed in descending order using identifiers. The most relevant passages should be listed first. The output format should be [] > [], e.g., [1] > [2]. Only response the ranking results, do not say any word or explain."},
	}
	if got := r.body["messages"]; !reflect.DeepEqual(got, want) {
		t.Errorf("messages\n%v\nwant\n%v", got, want)
	}
	if !strings.HasPrefix(l.Name(), "chat-listwise/test-model/w20-s10") || !l.SetDependent() {
		t.Errorf("Name %q", l.Name())
	}
}

// gradeOf reads the hidden grade a test passage carries ("grade=17").
var gradeOf = regexp.MustCompile(`grade=(\d+)`)

// oracle is a chat server that ranks each window perfectly by the grades
// in its passages, as a strong model would.
func oracle(t *testing.T) *modelServer {
	return serve(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any, _ int) {
		msgs := body["messages"].([]any)
		type passage struct{ id, grade int }
		var ps []passage
		for _, m := range msgs {
			c := m.(map[string]any)["content"].(string)
			if m.(map[string]any)["role"] != "user" || !strings.HasPrefix(c, "[") {
				continue
			}
			id, _ := strconv.Atoi(c[1:strings.Index(c, "]")])
			g, _ := strconv.Atoi(gradeOf.FindStringSubmatch(c)[1])
			ps = append(ps, passage{id, g})
		}
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].grade > ps[j].grade })
		parts := make([]string, len(ps))
		for i, p := range ps {
			parts[i] = fmt.Sprintf("[%d]", p.id)
		}
		writeJSON(w, 200, ollamaAnswer(strings.Join(parts, " > ")))
	})
}

// TestListwiseSlidingWindow: 45 candidates in reverse order of merit take
// four windows, bottom up; the best ten rise to the top in order.
func TestListwiseSlidingWindow(t *testing.T) {
	srv := oracle(t)
	l, _ := NewListwise(ListwiseOptions{Server: quick(srv.v1())})
	const n = 45
	cands := make([]searcher.Candidate, n)
	for i := range cands {
		cands[i] = cand(fmt.Sprint(i), "", fmt.Sprintf("passage grade=%d", i))
	}
	scores, err := l.Rerank(context.Background(), "q", cands)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(srv.recorded()); got != 4 {
		t.Errorf("%d requests, want 4 windows: 26-45, 16-35, 6-25, 1-15", got)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	for pos := range 10 {
		if want := n - 1 - pos; order[pos] != want {
			t.Errorf("position %d holds candidate %d, want %d (order %v)", pos+1, order[pos], want, order[:10])
		}
	}
	sorted := slices.Clone(scores)
	slices.Sort(sorted)
	for i, s := range sorted {
		if s != float64(i+1) {
			t.Fatalf("scores %v are not 1..%d", scores, n)
		}
	}
	first := srv.recorded()[0].body["messages"].([]any)
	if c := first[3].(map[string]any)["content"].(string); !strings.Contains(c, "grade=25") {
		t.Errorf("the first window should start at candidate 26, got %q", c)
	}
}

func TestListwiseFailures(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		status       int
		wantErr      string
	}{
		{"no identifiers", ollamaAnswer("Sorry, I can't help with that."), 200, "holds no passage identifier"},
		{"malformed JSON", `{"choices":[`, 200, "malformed answer"},
		{"null content", `{"choices":[{"index":0,"message":{"role":"assistant","content":null}}]}`, 200, "no answer text"},
		{"context too long", `{"error":{"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","code":400}}`, 400, "HTTP 400: the request exceeds the available context size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) {
				writeJSON(w, tc.status, tc.answer)
			})
			l, _ := NewListwise(ListwiseOptions{Server: quick(srv.v1())})
			cands := make([]searcher.Candidate, 25)
			for i := range cands {
				cands[i] = cand(fmt.Sprint(i), "", "p")
			}
			_, err := l.Rerank(context.Background(), "q", cands)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "window 6-25") {
				t.Errorf("err = %v, want %q in the first window", err, tc.wantErr)
			}
			if n := len(srv.recorded()); n != 1 {
				t.Errorf("%d requests: later windows must not run after a failure", n)
			}
		})
	}
}

func TestListwiseOneCandidateSendsNothing(t *testing.T) {
	srv := oracle(t)
	l, _ := NewListwise(ListwiseOptions{Server: quick(srv.v1())})
	scores, err := l.Rerank(context.Background(), "q", []searcher.Candidate{cand("a", "", "grade=1")})
	if err != nil || !reflect.DeepEqual(scores, []float64{1}) || len(srv.recorded()) != 0 {
		t.Errorf("scores %v, err %v, %d requests", scores, err, len(srv.recorded()))
	}
}
