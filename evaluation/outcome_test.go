package evaluation

import (
	"errors"
	"strings"
	"testing"
)

func TestOutcomeWrite(t *testing.T) {
	r := Outcome{Mode: "keyword", Summary: Summary{NDCG10: 0.5, Recall100: 0.75, MRR10: 0.25, Queries: 4, QueriesInRun: 3}, QueriesPerSecond: 10}
	var text, js strings.Builder
	if err := r.WriteText(&text); err != nil || text.String() != "ndcg@10=0.5000 recall@100=0.7500 mrr@10=0.2500 queries=4\n" {
		t.Errorf("WriteText: %q, %v", text.String(), err)
	}
	if err := r.WriteJSON(&js); err != nil || js.String() != `{"mode":"keyword","mrr@10":0.25,"ndcg@10":0.5,"queries":4,"queries_in_run":3,"queries_per_second":10,"recall@100":0.75}`+"\n" {
		t.Errorf("WriteJSON: %q, %v", js.String(), err)
	}
	r.Refused = []Refusal{{ID: "q7", Err: errors.New("too long")}, {ID: "q9", Err: errors.New("too long")}}
	text.Reset()
	js.Reset()
	if r.WriteText(&text); !strings.HasSuffix(text.String(), "queries=4 refused=2 (scored 0): q7 q9\n") {
		t.Errorf("WriteText with refusals: %q", text.String())
	}
	if r.WriteJSON(&js); !strings.Contains(js.String(), `"refused_queries":["q7","q9"]`) {
		t.Errorf("WriteJSON with refusals: %q", js.String())
	}
}
