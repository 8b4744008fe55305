package exa_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cari-search/cari"
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
		{"/findSimilar", `{"url":"https://geo.example.com/volcano","useAutoprompt":true}`, "useAutoprompt: /findSimilar has no query to rewrite"},
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

// TestExaSnapshotAsOf checks snapshotAsOf against the one version Cari
// keeps of each page: served when it was crawled by the instant, the
// URL's error (CRAWL_NOT_FOUND) otherwise in /contents, left out of a
// search's results; a live fetch asked for alongside is a 400.
func TestExaSnapshotAsOf(t *testing.T) {
	ts := startServer(t, serverSetup{docs: []cari.Document{
		{ID: "old", URL: "https://geo.example.com/old", Title: "Old volcano notes", Text: "Volcano lava flows.", Crawled: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "new", URL: "https://geo.example.com/new", Title: "New volcano notes", Text: "Volcano lava domes.", Crawled: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	}})
	code, m, _ := exaDo(t, ts, "/contents", `{"ids":["old","new"],"text":true,"snapshotAsOf":"2022-01-01T00:00:00Z"}`)
	if code != 200 {
		t.Fatalf("/contents: %d %v", code, m)
	}
	st := fmt.Sprint(m["statuses"])
	if rs := m["results"].([]any); len(rs) != 1 || rs[0].(map[string]any)["id"] != "old" ||
		!strings.Contains(st, "id:new") || !strings.Contains(st, "CRAWL_NOT_FOUND") {
		t.Errorf("/contents: results %v, statuses %s: want old only, new's status CRAWL_NOT_FOUND", rs, st)
	}
	code, m, _ = exaDo(t, ts, "/search", `{"query":"volcano","type":"keyword","contents":{"snapshotAsOf":"2022-01-01"}}`)
	if rs, _ := m["results"].([]any); code != 200 || len(rs) != 1 || rs[0].(map[string]any)["id"] != "old" {
		t.Errorf("/search: %d %v: want old only", code, m)
	}
	if w := fmt.Sprint(m["warnings"]); strings.Contains(w, "snapshotAsOf") {
		t.Errorf("/search: warnings %s", w)
	}
	for body, want := range map[string]string{
		`{"ids":["old"],"snapshotAsOf":"2022-01-01","livecrawl":"preferred"}`: `snapshotAsOf: asks for a stored version, which livecrawl "preferred"`,
		`{"ids":["old"],"snapshotAsOf":"2022-01-01","maxAgeHours":0}`:         "snapshotAsOf: asks for a stored version, which maxAgeHours 0",
		`{"ids":["old"],"snapshotAsOf":"last year"}`:                          "snapshotAsOf: must be an ISO 8601 date",
	} {
		code, m, _ := exaDo(t, ts, "/contents", body)
		if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %v, want 400 saying %q", body, code, m, want)
		}
	}
}
