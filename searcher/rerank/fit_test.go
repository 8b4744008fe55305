package rerank

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFitFollowsTheRecipe(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	train := quadrants(r, 200)
	o := DefaultFitOptions()
	m, err := Fit(train, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Trees) != 0 || o.String() != "pairwise logistic l2 0.03" {
		t.Errorf("default recipe %q: %d trees, want a linear model", o, len(m.Trees))
	}
	o.Boost.Trees, o.Refine = 5, 1
	if m, err = Fit(train, o); err != nil {
		t.Fatal(err)
	}
	if len(m.Trees) != 5 || !strings.Contains(o.String(), "5 lambdamart trees of 8 leaves") {
		t.Errorf("recipe %q: %d trees, want 5", o, len(m.Trees))
	}
}
