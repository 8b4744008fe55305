package server

import (
	"testing"
	"time"

	"github.com/cari-search/cari/searcher"
)

// The stages of a response add up to its total: the searcher's stages,
// then the server's own part of the request.
func TestSearchResponseStagesAddUpToTotal(t *testing.T) {
	resp := &searcher.Response{Type: searcher.TypeKeyword, Timings: []searcher.StageTiming{
		{Stage: "keyword", Duration: 10 * time.Millisecond}, {Stage: "contents", Duration: 20 * time.Millisecond},
	}}
	out := searchResponse(resp, time.Now().Add(-time.Second))
	var sum time.Duration
	var names []string
	for _, st := range out.GetTimings() {
		sum += st.GetDuration().AsDuration()
		names = append(names, st.GetStage())
	}
	if total := out.GetTotalDuration().AsDuration(); sum != total || total < time.Second {
		t.Errorf("stages %v add up to %v, total %v; want equal, at least the second since the request arrived", names, sum, total)
	}
	if last := names[len(names)-1]; last != transportStage || len(names) != 3 {
		t.Errorf("stages %v, want keyword, contents, %s", names, transportStage)
	}
}
