package exa_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/server"
)

func exaResults(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	raw, ok := m["results"].([]any)
	if !ok {
		t.Fatalf("no results array in %v", m)
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

func TestExaSearch(t *testing.T) {
	ts := startServer(t, serverSetup{})
	code, m, _ := exaDo(t, ts, "/search", `{"query":"volcano eruption","type":"fast","numResults":5,
		"startPublishedDate":"2021-01-01","contents":{"text":{"maxCharacters":20},"highlights":{"numSentences":1,"highlightsPerUrl":1},"livecrawl":"preferred"}}`)
	if code != http.StatusOK {
		t.Fatalf("POST /search: %d %v", code, m)
	}
	rs := exaResults(t, m)
	if len(rs) != 2 || rs[0]["id"] != "volcano" || rs[0]["url"] != "https://geo.example.com/volcano" {
		t.Fatalf("results %v, want volcano then merapi", rs)
	}
	r := rs[0]
	if r["title"] != "How volcanoes erupt" || r["publishedDate"] != "2021-03-01T00:00:00.000Z" || len(r["text"].(string)) > 20 {
		t.Errorf("result %v: want Exa's title, publishedDate and text cut to 20 characters", r)
	}
	if hs := r["highlights"].([]any); len(hs) != 1 || len(r["highlightScores"].([]any)) != 1 {
		t.Errorf("highlights %v, want one with its score", r)
	}
	// searchType takes the spec's values (neural, deep), which cannot
	// name keyword retrieval, so it is left out.
	if _, ok := m["searchType"]; m["requestId"] == "" || m["resolvedSearchType"] != "keyword" || ok {
		t.Errorf("response %v: want requestId, resolvedSearchType keyword, no searchType", m)
	}
	w, _ := json.Marshal(m["warnings"])
	if !strings.Contains(string(w), "livecrawl: this server does not fetch pages live") {
		t.Errorf("warnings %s, want livecrawl named", w)
	}

	t.Run("top-level text", func(t *testing.T) {
		// The spec's own curl samples ask for text this way.
		for _, c := range []struct{ path, body string }{
			{"/search", `{"query":"jazz","text":true}`},
			{"/findSimilar", `{"url":"https://geo.example.com/volcano","text":{"maxCharacters":12}}`},
		} {
			_, m, _ := exaDo(t, ts, c.path, c.body)
			rs := exaResults(t, m)
			if len(rs) == 0 || rs[0]["text"] == nil || rs[0]["text"] == "" {
				t.Errorf("%s %s: results %v, want text", c.path, c.body, rs)
			}
		}
	})
	t.Run("scores", func(t *testing.T) {
		// Scores are calibrated probabilities in [0, 1], in the results'
		// order; the raw BM25 score stays under debug, a Cari extension.
		_, m, _ := exaDo(t, ts, "/search", `{"query":"volcano erupts magma","debug":true}`)
		rs := exaResults(t, m)
		if len(rs) < 2 {
			t.Fatalf("results %v, want two", rs)
		}
		prev := 1.0
		for _, r := range rs {
			s, _ := r["score"].(float64)
			d, _ := r["debug"].(map[string]any)
			raw, _ := d["keywordScore"].(float64)
			if s <= 0 || s > prev || raw <= s {
				t.Errorf("result %v: want a score in (0, 1], not above the one before, and the raw BM25 score under debug", r)
			}
			prev = s
		}
		_, m, _ = exaDo(t, ts, "/search", `{"query":"volcano erupts magma"}`)
		if r := exaResults(t, m)[0]; r["debug"] != nil {
			t.Errorf("result %v: debug without asking", r)
		}
	})
	t.Run("no contents", func(t *testing.T) {
		_, m, _ := exaDo(t, ts, "/search", `{"query":"jazz"}`)
		rs := exaResults(t, m)
		if len(rs) != 1 || rs[0]["text"] != nil || rs[0]["highlights"] != nil {
			t.Errorf("results %v, want jazz without text or highlights", rs)
		}
	})
	t.Run("domain and text filters", func(t *testing.T) {
		_, m, _ := exaDo(t, ts, "/search", `{"query":"volcano","includeDomains":["news.example.com"],"excludeText":["Sunday"]}`)
		if rs := exaResults(t, m); len(rs) != 0 {
			t.Errorf("results %v, want none", rs)
		}
	})
}

func TestExaErrors(t *testing.T) {
	ts := startServer(t, serverSetup{guard: server.GuardOptions{Keys: []server.Key{{Name: "s", Secret: "search-key-0123456789", Scope: server.ScopeSearch}}}})
	key := []string{"x-api-key", "search-key-0123456789"}
	for _, tc := range []struct {
		name, path, body string
		headers          []string
		code             int
		tag, msg         string
	}{
		{"no key", "/search", `{"query":"jazz"}`, nil, 401, "INVALID_API_KEY", "missing API key"},
		{"wrong key", "/search", `{"query":"jazz"}`, []string{"x-api-key", "wrong-key-0123456789"}, 401, "INVALID_API_KEY", "invalid API key"},
		{"numResults", "/search", `{"query":"jazz","numResults":1000}`, key, 400, "INVALID_REQUEST_BODY", "numResults"},
		{"numResults 0", "/search", `{"query":"jazz","numResults":0}`, key, 400, "INVALID_REQUEST_BODY", "numResults: must be between 1 and 100, got 0"},
		{"numResults negative", "/findSimilar", `{"url":"https://music.example.org/jazz","numResults":-3}`, key, 400, "INVALID_REQUEST_BODY", "numResults: must be between 1 and 100, got -3"},
		{"numResults type", "/search", `{"query":"jazz","numResults":"ten"}`, key, 400, "INVALID_REQUEST_BODY", "numResults: must be an integer, got JSON string"},
		{"nested type", "/search", `{"query":"jazz","contents":{"highlights":{"numSentences":"two"}}}`, key, 400, "INVALID_REQUEST_BODY", "contents.highlights.numSentences: must be an integer, got JSON string"},
		{"type", "/search", `{"query":"jazz","type":"psychic"}`, key, 400, "INVALID_REQUEST_BODY", "type"},
		{"bad JSON type", "/search", `{"query":5}`, key, 400, "INVALID_REQUEST_BODY", "query"},
		{"date", "/search", `{"query":"jazz","endPublishedDate":"yesterday"}`, key, 400, "INVALID_REQUEST_BODY", "endPublishedDate"},
		{"text shape", "/search", `{"query":"jazz","contents":{"text":"yes"}}`, key, 400, "INVALID_REQUEST_BODY", "contents.text: must be true, false or"},
		{"empty body", "/contents", ``, key, 400, "INVALID_REQUEST_BODY", "empty"},
		{"unknown url", "/findSimilar", `{"url":"https://nowhere.example.com/"}`, key, 404, "NOT_FOUND", ""},
		{"outputSchema", "/answer", `{"query":"jazz","outputSchema":{"type":"object"}}`, key, 501, "NOT_IMPLEMENTED", "outputSchema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, m, h := exaDo(t, ts, tc.path, tc.body, tc.headers...)
			msg, _ := m["error"].(string)
			if code != tc.code || m["tag"] != tc.tag || !strings.Contains(msg, tc.msg) || m["requestId"] == "" {
				t.Errorf("%d %v, want %d, tag %s and an error that says %q", code, m, tc.code, tc.tag, tc.msg)
			}
			// Fields go by their names in Exa's request, never Go's.
			if strings.Contains(msg, "exaFilters") || strings.Contains(msg, "exaContents") || strings.Contains(msg, "Go struct") {
				t.Errorf("error %q names Go types, not Exa's fields", msg)
			}
			if code == 401 && h.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("bearer", func(t *testing.T) {
		code, m, _ := exaDo(t, ts, "/search", `{"query":"jazz"}`, "Authorization", "Bearer search-key-0123456789")
		if code != 200 || len(exaResults(t, m)) != 1 {
			t.Errorf("%d %v, want jazz", code, m)
		}
	})
}

func TestExaFindSimilarAndContents(t *testing.T) {
	ts := startServer(t, serverSetup{})
	code, m, _ := exaDo(t, ts, "/findSimilar", `{"url":"https://geo.example.com/volcano","excludeSourceDomain":true,"contents":{"text":true}}`)
	if code != 200 {
		t.Fatalf("findSimilar: %d %v", code, m)
	}
	rs := exaResults(t, m)
	if len(rs) == 0 || rs[0]["id"] != "merapi" || rs[0]["text"] == nil {
		t.Errorf("findSimilar results %v, want merapi first, with text", rs)
	}

	code, m, _ = exaDo(t, ts, "/contents", `{"urls":["https://music.example.org/jazz","https://nowhere.example.com/"],"summary":true}`)
	if code != 200 {
		t.Fatalf("contents: %d %v", code, m)
	}
	rs = exaResults(t, m)
	// summary is a contents option, so no text comes unasked (as exa-js
	// asks for text only when no option is given).
	if len(rs) != 1 {
		t.Fatalf("contents results %v, want jazz alone", rs)
	}
	if summary, _ := rs[0]["summary"].(string); !strings.HasPrefix(summary, "Jazz grew") || rs[0]["summaryType"] != "extractive" || rs[0]["text"] != nil || rs[0]["score"] != nil {
		t.Errorf("contents results %v, want jazz's extractive summary, no text and no score", rs)
	}
	st, _ := json.Marshal(m["statuses"])
	if !strings.Contains(string(st), `"status":"success"`) || !strings.Contains(string(st), `"tag":"CRAWL_NOT_FOUND"`) {
		t.Errorf("statuses %s, want one success and one CRAWL_NOT_FOUND", st)
	}
	if w, _ := json.Marshal(m["warnings"]); !strings.Contains(string(w), "summary") {
		t.Errorf("warnings %s, want summary named", w)
	}

	t.Run("highlights without query, maxCharacters per URL", func(t *testing.T) {
		// The spec allows highlights without a query on /contents, and its
		// maxCharacters bounds all of a URL's highlights together.
		code, m, _ := exaDo(t, ts, "/contents", `{"ids":["volcano"],"highlights":{"numSentences":1,"highlightsPerUrl":3,"maxCharacters":80}}`)
		rs := exaResults(t, m)
		if code != 200 || len(rs) != 1 {
			t.Fatalf("%d %v, want volcano", code, m)
		}
		hs, _ := rs[0]["highlights"].([]any)
		total := 0
		for _, h := range hs {
			total += utf8.RuneCountInString(h.(string))
		}
		if len(hs) < 2 || total > 80 || total < 70 {
			t.Errorf("highlights %q (%d characters): want at least two, together at most 80 characters", hs, total)
		}
	})

	_, m, _ = exaDo(t, ts, "/contents", `{"ids":["jazz"],"highlights":{"query":"New Orleans"}}`)
	if rs := exaResults(t, m); len(rs) != 1 || rs[0]["text"] != nil || len(rs[0]["highlights"].([]any)) != 1 {
		t.Errorf("contents with highlights only: %v, want jazz's highlight and no text", rs)
	}
}

func TestExaAnswer(t *testing.T) {
	ts := startServer(t, serverSetup{})
	code, m, _ := exaDo(t, ts, "/answer", `{"query":"why do volcanoes erupt","text":true,"model":"exa"}`)
	if code != 200 {
		t.Fatalf("answer: %d %v", code, m)
	}
	answer, _ := m["answer"].(string)
	cites, _ := m["citations"].([]any)
	if m["answerType"] != "extractive" || !strings.Contains(answer, "[1]") || len(cites) == 0 {
		t.Fatalf("answer %v: want an extractive answer with citations", m)
	}
	if c := cites[0].(map[string]any); c["url"] == "" || c["text"] == nil {
		t.Errorf("citation %v: want url and text", c)
	}

	r := ts.do(t, "POST", "/answer", `{"query":"why do volcanoes erupt","stream":true}`)
	body := string(r.body)
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") ||
		!strings.Contains(body, `"delta":{"content":`) || !strings.Contains(body, `"citations":[`) || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Errorf("streamed answer: %d %s\n%s", r.code, r.header.Get("Content-Type"), body)
	}
}

// A document indexed without a URL (a corpus record) still gets one: from
// the URL template when the server has one, else cari:doc/ID; and the SDK
// code that passes a result's url on to findSimilar or getContents works
// with it.
func TestExaURLs(t *testing.T) {
	docs := []cari.Document{
		{ID: "claim 17", Title: "Magma", Text: "Basaltic magma erupts from shield volcanoes in gentle lava flows."},
		// A page of its own whose URL fits the template: still found by it.
		{ID: "guide", URL: "https://docs.example.org/guide.html", Title: "Guide", Text: "A guide to volcano monitoring with seismometers and gas sensors."},
	}
	for _, tc := range []struct{ template, want string }{
		{"", "cari:doc/claim%2017"},
		{"https://docs.example.org/{id}.html", "https://docs.example.org/claim%2017.html"},
	} {
		t.Run("template "+tc.template, func(t *testing.T) {
			ts := startServer(t, serverSetup{docs: docs, opts: func(o *server.Options) { o.URLTemplate = tc.template }})
			_, m, _ := exaDo(t, ts, "/search", `{"query":"basaltic magma shield"}`)
			rs := exaResults(t, m)
			if len(rs) == 0 || rs[0]["id"] != "claim 17" || rs[0]["url"] != tc.want {
				t.Fatalf("results %v, want claim 17 first with url %s", rs, tc.want)
			}
			code, m, _ := exaDo(t, ts, "/findSimilar", `{"url":"`+tc.want+`"}`)
			if rs := exaResults(t, m); code != 200 || len(rs) == 0 {
				t.Errorf("findSimilar %s: %d %v, want results", tc.want, code, m)
			}
			code, m, _ = exaDo(t, ts, "/contents", `{"urls":["`+tc.want+`","https://docs.example.org/guide.html","cari:doc/nothing"]}`)
			rs = exaResults(t, m)
			st, _ := m["statuses"].([]any)
			if code != 200 || len(rs) != 2 || rs[0]["id"] != "claim 17" || rs[0]["url"] != tc.want || rs[1]["id"] != "guide" ||
				len(st) != 3 || st[2].(map[string]any)["id"] != "cari:doc/nothing" || st[2].(map[string]any)["status"] != "error" {
				t.Errorf("contents: %d %v, want claim 17 and guide found by their urls, cari:doc/nothing not", code, m)
			}
			code, m, _ = exaDo(t, ts, "/findSimilar", `{"url":"https://docs.example.org/guide.html"}`)
			if code != 200 {
				t.Errorf("findSimilar by a page's own url that fits the template: %d %v", code, m)
			}
			_, m, _ = exaDo(t, ts, "/answer", `{"query":"basaltic magma shield"}`)
			if cites, _ := m["citations"].([]any); len(cites) == 0 || cites[0].(map[string]any)["url"] != tc.want {
				t.Errorf("answer citations %v, want claim 17's url %s", m["citations"], tc.want)
			}
		})
	}
}

// GET /documents/{id} resolves a document's ID, so that a URL template
// pointing at the server gives corpus records URLs that resolve.
func TestExaDocumentByID(t *testing.T) {
	docs := []cari.Document{{ID: "claim 17/a", Title: "Magma", Text: "Basaltic magma erupts from shield volcanoes."}}
	ts := startServer(t, serverSetup{docs: docs, opts: func(o *server.Options) { o.URLTemplate = "http://cari.example/documents/{id}" }})
	_, m, _ := exaDo(t, ts, "/search", `{"query":"basaltic magma"}`)
	rs := exaResults(t, m)
	if len(rs) == 0 || rs[0]["url"] != "http://cari.example/documents/claim%2017%2Fa" {
		t.Fatalf("results %v, want claim 17/a's url under /documents/", rs)
	}
	path := strings.TrimPrefix(rs[0]["url"].(string), "http://cari.example")
	r := ts.do(t, "GET", path, "")
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil || r.code != 200 || doc["id"] != "claim 17/a" || doc["text"] != docs[0].Text || doc["url"] != rs[0]["url"] {
		t.Errorf("GET %s: %d %s, want claim 17/a with its text and url", path, r.code, r.body)
	}
	r = ts.do(t, "GET", "/documents/nothing", "")
	if err := json.Unmarshal(r.body, &doc); err != nil || r.code != 404 || doc["tag"] != "NOT_FOUND" {
		t.Errorf("GET /documents/nothing: %d %s, want Exa's 404", r.code, r.body)
	}
}
