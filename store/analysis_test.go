package store

import (
	"slices"
	"strings"
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

// TestQuestionWordsLeaveIndonesianQueries: the Indonesian field drops a
// question's question word, including the -kah and di- forms that Tala's
// stop list misses before stemming, while documents keep their words and
// other fields their own analysis.
func TestQuestionWordsLeaveIndonesianQueries(t *testing.T) {
	a, err := NewAnalysis()
	if err != nil {
		t.Fatal(err)
	}
	only := map[string]bool{FieldBodyID: true}
	for _, tc := range []struct{ query, want string }{
		{"Dimanakah Douwes Dekker dilahirkan?", "douwes dekker"},
		{"Berapa jumlah penduduk Jakarta?", "duduk jakarta"},
		{"Kapankah Candi Borobudur dibangun?", "candi borobudur"},
		{"Darimana asal nama Bandung?", "nama bandung"},
	} {
		fields := a.QueryFieldsAmong(tc.query, only)
		if len(fields) != 1 || fields[0].Field != FieldBodyID {
			t.Fatalf("%q searches %v, want the Indonesian field", tc.query, fields)
		}
		for _, q := range []string{"mana", "berapa", "kapan", "darimana", "dimanakah", "berapakah", "kapankah"} {
			if slices.Contains(fields[0].Terms, q) {
				t.Errorf("%q keeps the question word %q: %v", tc.query, q, fields[0].Terms)
			}
		}
		for _, w := range strings.Fields(tc.want) {
			if !slices.Contains(fields[0].Terms, w) {
				t.Errorf("%q lost %q: %v", tc.query, w, fields[0].Terms)
			}
		}
	}
	if got := a.TermsIn("Dimanakah rumahnya?", "id"); !slices.Contains(got, "mana") {
		t.Errorf("a document's text lost its question word: %v", got)
	}
}
