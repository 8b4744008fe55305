package store

import (
	"slices"
	"testing"
)

// TestQueryFields: a query sure of its language searches its own field and
// the neutral one; an unsure one searches all; only fields with documents
// are searched, an index in one language needs no detection, and a sure
// query whose fields are empty falls back to the populated ones.
func TestQueryFields(t *testing.T) {
	a, err := NewAnalysis()
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]bool{}
	for _, f := range Fields() {
		all[f] = true
	}
	english := "Which animals are the largest that have ever lived?"
	indonesian := "Siapakah presiden pertama Republik Indonesia?"
	for _, tc := range []struct {
		query     string
		populated map[string]bool
		want      []string
	}{
		{english, all, []string{FieldBody, FieldBodyNeutral}},
		{indonesian, all, []string{FieldBodyID, FieldBodyNeutral}},
		{"whales", all, []string{FieldBody, FieldBodyID, FieldBodyCJK, FieldBodyNeutral}}, // unsure
		{indonesian, map[string]bool{FieldBody: true, FieldBodyID: true}, []string{FieldBodyID}},
		// One language in the index: its field, whatever the query.
		{indonesian, map[string]bool{FieldBody: true}, []string{FieldBody}},
		// Sure of a language the index does not hold: every populated field.
		{indonesian, map[string]bool{FieldBody: true, FieldBodyCJK: true}, []string{FieldBody, FieldBodyCJK}},
		{english, map[string]bool{}, nil},
	} {
		var got []string
		for _, f := range a.QueryFieldsAmong(tc.query, tc.populated) {
			got = append(got, f.Field)
		}
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q among %v searches %v, want %v", tc.query, tc.populated, got, want)
		}
	}
}
