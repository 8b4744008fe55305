package exa

import (
	"encoding/json"
	"math"
	"testing"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

func TestFuseRankings(t *testing.T) {
	res := func(ids ...string) []*cariv1.Result {
		out := make([]*cariv1.Result, len(ids))
		for i, id := range ids {
			out[i] = &cariv1.Result{Id: id, Title: id + "@" + string(rune('0'+len(ids))), Score: 99}
		}
		return out
	}
	lists := [][]*cariv1.Result{res("a", "b", "c"), res("b", "a"), res("d", "b", "e", "f")}
	got := fuseRankings(lists, 4)
	// b: 1/62 + 1/61 + 1/62; a: 1/61 + 1/62; d: 1/61; c: 1/63.
	want := []string{"b", "a", "d", "c"}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	best := 3.0 / 61
	for i, r := range got {
		if r.GetId() != want[i] {
			t.Errorf("rank %d: %s, want %s", i+1, r.GetId(), want[i])
		}
		if r.GetScore() <= 0 || r.GetScore() > 1 || (i > 0 && r.GetScore() > got[i-1].GetScore()) {
			t.Errorf("%s: score %v, want in (0, 1] and falling", r.GetId(), r.GetScore())
		}
	}
	if s := float64(got[0].GetScore()); math.Abs(s-(1.0/62+1.0/61+1.0/62)/best) > 1e-6 {
		t.Errorf("b's score %v, want its fused score over the best possible", s)
	}
	// b's contents come from the list that ranked it best (the second,
	// of two results), and the input is not changed.
	if got[0].GetTitle() != "b@2" || lists[1][0].GetScore() != 99 {
		t.Errorf("b %v, input %v: want the second list's copy, and the input untouched", got[0], lists[1][0])
	}
	if one := fuseRankings([][]*cariv1.Result{res("a")}, 10); len(one) != 1 || one[0].GetScore() != 1 {
		t.Errorf("one list, one result: %v, want score 1", one)
	}
}

func TestSchemaSize(t *testing.T) {
	for _, tc := range []struct {
		schema       string
		props, depth int
	}{
		{`{"type":"object"}`, 0, 0},
		{`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number"}}}`, 2, 1},
		{`{"type":"object","properties":{"a":{"type":"object","properties":{"x":{},"y":{}}}}}`, 3, 2},
		{`{"type":"object","properties":{"list":{"type":"array","items":{"type":"object","properties":{"x":{}}}}}}`, 2, 2},
	} {
		var tree any
		if err := json.Unmarshal([]byte(tc.schema), &tree); err != nil {
			t.Fatal(err)
		}
		if p, d := schemaSize(tree, 0); p != tc.props || d != tc.depth {
			t.Errorf("%s: %d properties, depth %d; want %d, %d", tc.schema, p, d, tc.props, tc.depth)
		}
	}
}
