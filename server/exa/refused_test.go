package exa_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestExaRefusedFields checks that the Exa fields Cari cannot honour are
// refused with a 400 in Exa's error shape naming the field, rather than
// accepted with no effect, and that the values asking for nothing (an
// empty array, false) still pass, as Exa's SDKs may send them.
func TestExaRefusedFields(t *testing.T) {
	ts := startServer(t, serverSetup{})
	for _, tc := range []struct {
		path, body string
		want       string // in the error; "" for a 200
	}{
		{"/search", `{"query":"volcano","flags":["beta"]}`, "flags: Cari has no experimental flags; unknown: beta"},
		{"/search", `{"query":"volcano","flags":"beta"}`, "flags: must be an array of strings"},
		{"/search", `{"query":"volcano","flags":[]}`, ""},
		{"/findSimilar", `{"url":"https://geo.example.com/volcano","flags":["x","y"]}`, "flags: Cari has no experimental flags; unknown: x, y"},
		{"/search", `{"query":"volcano","moderation":true}`, "moderation: Cari has no moderation model"},
		{"/search", `{"query":"volcano","moderation":"yes"}`, "moderation: must be true or false"},
		{"/search", `{"query":"volcano","moderation":false}`, ""},
		{"/search", `{"query":"volcano","useAutoprompt":true}`, "useAutoprompt: Cari does not rewrite queries"},
		{"/search", `{"query":"volcano","useAutoprompt":false}`, ""},
		{"/search", `{"query":"volcano","userLocation":"US"}`, "userLocation: Cari does not localize results"},
		{"/search", `{"query":"volcano","userLocation":"USA"}`, "userLocation: must be a two-letter ISO 3166-1 country code"},
		{"/answer", `{"query":"volcano","userLocation":"fr"}`, "userLocation: Cari does not localize results"},
	} {
		code, m, _ := exaDo(t, ts, tc.path, tc.body)
		if tc.want == "" {
			if code != 200 {
				t.Errorf("%s %s: %d %v, want 200", tc.path, tc.body, code, m)
			}
			if w := fmt.Sprint(m["warnings"]); strings.Contains(w, "flags") || strings.Contains(w, "moderation") || strings.Contains(w, "useAutoprompt") {
				t.Errorf("%s %s: warnings %s", tc.path, tc.body, w)
			}
			continue
		}
		msg, _ := m["error"].(string)
		if code != 400 || !strings.Contains(msg, tc.want) || m["requestId"] == nil {
			t.Errorf("%s %s: %d %v, want 400 in Exa's shape saying %q", tc.path, tc.body, code, m, tc.want)
		}
	}
}
