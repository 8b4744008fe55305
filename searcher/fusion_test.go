package searcher

import (
	"math"
	"testing"

	"github.com/cari-search/cari/store"
)

func ids(fs []Fused) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func TestFuseRRF(t *testing.T) {
	kw := []store.Hit{{ID: "a", Score: 9}, {ID: "b", Score: 5}, {ID: "c", Score: 1}}
	vec := []store.Hit{{ID: "c", Score: 0.9, Passage: 2}, {ID: "d", Score: 0.8}}
	got := Fuse(kw, vec, Fusion{Method: FusionRRF, RRFK: 60, Alpha: 0.5})
	// a: .5/61; b: .5/62; c: .5/63 + .5/61; d: .5/62.
	want := map[string]float64{"a": 0.5 / 61, "b": 0.5 / 62, "c": 0.5/63 + 0.5/61, "d": 0.5 / 62}
	if g := ids(got); g[0] != "c" || g[1] != "a" || g[2] != "b" || g[3] != "d" {
		t.Errorf("order = %v, want [c a b d] (b and d tie; ID breaks it)", g)
	}
	for _, f := range got {
		if math.Abs(f.Score-want[f.ID]) > 1e-12 {
			t.Errorf("%s score = %v, want %v", f.ID, f.Score, want[f.ID])
		}
	}
	c := got[0]
	if c.KeywordRank != 3 || c.VectorRank != 1 || c.Passage != 2 || c.KeywordScore != 1 || c.VectorScore != 0.9 {
		t.Errorf("c's components = %+v", c)
	}
}

func TestFuseScore(t *testing.T) {
	kw := []store.Hit{{ID: "a", Score: 10}, {ID: "b", Score: 6}, {ID: "c", Score: 2}}
	vec := []store.Hit{{ID: "c", Score: 0.9}, {ID: "b", Score: 0.5}, {ID: "a", Score: 0.1}}
	tests := []struct {
		alpha float64
		want  []string
	}{
		{0, []string{"a", "b", "c"}},   // keyword only
		{1, []string{"c", "b", "a"}},   // vector only
		{0.2, []string{"a", "b", "c"}}, // a: .8, b: .4+.1, c: .2
		{0.7, []string{"c", "b", "a"}}, // a: .3, b: .15+.35, c: .7
	}
	for _, tt := range tests {
		got := Fuse(kw, vec, Fusion{Method: FusionScore, Alpha: tt.alpha})
		if g := ids(got); g[0] != tt.want[0] || g[1] != tt.want[1] || g[2] != tt.want[2] {
			t.Errorf("alpha %v: order %v, want %v", tt.alpha, g, tt.want)
		}
	}
	one := Fuse([]store.Hit{{ID: "x", Score: 3}}, nil, Fusion{Method: FusionScore, Alpha: 0.3})
	if one[0].Score != 0.7 {
		t.Errorf("a lone hit normalises to 1 and weighs 1-alpha: got %v", one[0].Score)
	}
}

func TestFusionValidate(t *testing.T) {
	bad := []Fusion{{Method: 7}, {RRFK: -1}, {RRFK: 2000}, {Alpha: 1.5}, {Alpha: math.NaN()}, {Candidates: -1}, {Candidates: 5000}}
	for _, f := range bad {
		if f.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", f)
		}
	}
	if err := DefaultFusion.Validate(); err != nil {
		t.Errorf("DefaultFusion invalid: %v", err)
	}
}

func TestLooksExact(t *testing.T) {
	for q, want := range map[string]bool{
		`"exact phrase" here`:               true,
		"kubernetes":                        true,
		"os.path.join usage":                true,
		"std::vector resize":                true,
		"snake_case_name":                   true,
		"how do whales communicate":         false,
		"effects of vitamin D on bone":      false,
		"price in U.S. dollars":             true,
		"what is the capital of indonesia?": false,
	} {
		if got := looksExact(q); got != want {
			t.Errorf("looksExact(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestFusionForModel(t *testing.T) {
	if got := FusionForModel(true); got != StaticFusion || got.Method != FusionScore {
		t.Errorf("static word vectors: %+v, want the tuned score fusion %+v", got, StaticFusion)
	}
	if got := FusionForModel(false); got != DefaultFusion || got.Method != FusionRRF {
		t.Errorf("a transformer model: %+v, want %+v", got, DefaultFusion)
	}
}

// TestFuseRankings: lists of very different lengths interleave by rank,
// lists tie at a rank in their given order, the fused score is 1/(k+rank),
// and the first n are kept.
func TestFuseRankings(t *testing.T) {
	got := FuseRankings([]int{3, 0, 1, 2}, 60, 5)
	want := []Ranked{
		{List: 0, Rank: 1, Score: 1.0 / 61}, {List: 2, Rank: 1, Score: 1.0 / 61}, {List: 3, Rank: 1, Score: 1.0 / 61},
		{List: 0, Rank: 2, Score: 1.0 / 62}, {List: 3, Rank: 2, Score: 1.0 / 62},
	}
	if len(got) != len(want) {
		t.Fatalf("fused %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fused[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if all := FuseRankings([]int{3, 0, 1, 2}, 60, 100); len(all) != 6 || all[5] != (Ranked{List: 0, Rank: 3, Score: 1.0 / 63}) {
		t.Errorf("all of them: %+v, want 6 ending with list 0's third", all)
	}
	if none := FuseRankings([]int{0, 0}, 60, 10); len(none) != 0 {
		t.Errorf("empty lists fuse to %+v", none)
	}
}
