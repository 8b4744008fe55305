package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestHTTPSearch(t *testing.T) {
	ts := startServer(t, serverSetup{})

	r := ts.do(t, "POST", "/v1/search", `{"query":"volcano eruption","numResults":5,"contents":{"highlights":{"perUrl":1}}}`)
	if r.code != http.StatusOK {
		t.Fatalf("POST /v1/search: %d %s", r.code, r.body)
	}
	var resp struct {
		RequestID          string `json:"requestId"`
		ResolvedSearchType string `json:"resolvedSearchType"`
		Results            []struct {
			ID              string    `json:"id"`
			URL             string    `json:"url"`
			Highlights      []string  `json:"highlights"`
			HighlightScores []float64 `json:"highlightScores"`
			PublishedDate   string    `json:"publishedDate"`
		} `json:"results"`
		Timings []struct{ Stage, Duration string } `json:"timings"`
	}
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatalf("%v\n%s", err, r.body)
	}
	if len(resp.Results) != 2 || resp.Results[0].ID != "volcano" {
		t.Fatalf("results %+v, want volcano and merapi", resp.Results)
	}
	if resp.ResolvedSearchType != "SEARCH_TYPE_KEYWORD" || resp.RequestID == "" || len(resp.Timings) == 0 {
		t.Errorf("response %s: want resolvedSearchType SEARCH_TYPE_KEYWORD, a requestId and timings", r.body)
	}
	if h := resp.Results[0].Highlights; len(h) != 1 || !strings.Contains(h[0], "erupt") || len(resp.Results[0].HighlightScores) != 1 {
		t.Errorf("highlights %q, want one passage about the eruption with its score", h)
	}
	if resp.Results[0].PublishedDate != "2021-03-01T00:00:00Z" {
		t.Errorf("publishedDate %q, want RFC 3339", resp.Results[0].PublishedDate)
	}
	if strings.Contains(string(r.body), "resolved_search_type") {
		t.Errorf("response uses proto field names, want lowerCamelCase: %s", r.body)
	}

	t.Run("proto names accepted", func(t *testing.T) {
		r := ts.do(t, "POST", "/v1/search", `{"query":"volcano","num_results":1}`)
		if r.code != http.StatusOK || len(r.json(t)["results"].([]any)) != 1 {
			t.Errorf("num_results: %d %s, want one result", r.code, r.body)
		}
	})
	t.Run("GET with query parameters", func(t *testing.T) {
		r := ts.do(t, "GET", "/v1/search?query=jazz&numResults=1&filters.includeDomains=example.org", "")
		if r.code != http.StatusOK || !slices.Equal(r.resultIDs(t), []string{"jazz"}) {
			t.Errorf("GET /v1/search: %d %s, want jazz", r.code, r.body)
		}
	})
	t.Run("contents", func(t *testing.T) {
		r := ts.do(t, "POST", "/v1/contents", `{"ids":["jazz","nope"]}`)
		if r.code != http.StatusOK || !strings.Contains(string(r.body), "CONTENTS_STATUS_NOT_FOUND") || !strings.Contains(string(r.body), "New Orleans") {
			t.Errorf("POST /v1/contents: %d %s", r.code, r.body)
		}
	})
	t.Run("stats", func(t *testing.T) {
		r := ts.do(t, "GET", "/v1/stats", "")
		if r.code != http.StatusOK || r.json(t)["documents"] != "4" {
			t.Errorf("GET /v1/stats: %d %s, want documents \"4\"", r.code, r.body)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		if r := ts.do(t, "POST", "/v1/nothing", `{}`); r.code != http.StatusNotFound {
			t.Errorf("POST /v1/nothing: %d, want 404", r.code)
		}
	})
}

func TestHTTPUpsertStream(t *testing.T) {
	ts := startServer(t, serverSetup{})
	body := `{"document":{"id":"tea","title":"Green tea","text":"Green tea is made from unoxidised leaves."}}
{"document":{"id":"","title":""}}
{"document":{"url":"https://tea.example.com/oolong","title":"Oolong","text":"Oolong is partly oxidised tea."}}`
	r := ts.do(t, "POST", uploadPath, body)
	if r.code != http.StatusOK {
		t.Fatalf("upsert: %d %s", r.code, r.body)
	}
	m := r.json(t)
	if m["received"] != "3" || m["indexed"] != "2" || m["failed"] != "1" {
		t.Errorf("upsert answered %s, want 3 received, 2 indexed, 1 failed", r.body)
	}
	if r := ts.do(t, "POST", "/v1/search", `{"query":"oxidised tea"}`); !slices.Contains(r.resultIDs(t), "tea") {
		t.Errorf("search after upsert: %s, want tea", r.body)
	}
	if r := ts.do(t, "POST", "/v1/documents:delete", `{"ids":["tea"],"urls":["https://nowhere.example.com/"]}`); r.code != http.StatusOK || r.json(t)["deleted"] != "1" {
		t.Errorf("delete: %d %s, want 1 deleted", r.code, r.body)
	}
}

// TestHTTPUpsertCategory checks that an upsert sets a document's category
// (stored in its canonical form, filtered on, returned), and that a value
// outside Exa's categories fails the document with field document.category.
func TestHTTPUpsertCategory(t *testing.T) {
	ts := startServer(t, serverSetup{})
	body := `{"document":{"id":"tea-co","title":"Tea company","text":"Oxidised tea for sale.","category":" Company "}}
{"document":{"id":"tea-blog","title":"Tea notes","text":"Oxidised tea, brewed.","category":"blog"}}`
	r := ts.do(t, "POST", uploadPath, body)
	if r.code != http.StatusOK {
		t.Fatalf("upsert: %d %s", r.code, r.body)
	}
	var resp struct {
		Indexed, Failed string
		Errors          []struct{ ID, Field, Message string }
	}
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Indexed != "1" || resp.Failed != "1" || len(resp.Errors) != 1 || resp.Errors[0].ID != "tea-blog" ||
		resp.Errors[0].Field != "document.category" || !strings.Contains(resp.Errors[0].Message, `"blog"`) {
		t.Fatalf("upsert answered %s, want tea-co indexed and tea-blog failed on document.category naming \"blog\"", r.body)
	}
	r = ts.do(t, "POST", "/v1/search", `{"query":"oxidised tea","filters":{"categories":["company"]}}`)
	if ids := r.resultIDs(t); !slices.Equal(ids, []string{"tea-co"}) || !strings.Contains(string(r.body), `"category":"company"`) {
		t.Errorf("search for the company category: %s, want tea-co with category company", r.body)
	}
}

// TestHTTPValidation checks that every kind of bad field answers 400 with a
// message naming the field, and its allowed range where it has one.
func TestHTTPValidation(t *testing.T) {
	ts := startServer(t, serverSetup{opts: func(o *Options) { o.MaxNumResults = 50 }})
	cases := []struct {
		name, path, body string
		want             []string // substrings of the message
	}{
		{"empty query", "/v1/search", `{"query":"  "}`, []string{"query"}},
		{"num_results over the server cap", "/v1/search", `{"query":"x","numResults":60}`, []string{"num_results: must be between 1 and 50, got 60"}},
		{"num_results negative", "/v1/search", `{"query":"x","numResults":-1}`, []string{"num_results", "between"}},
		{"alpha", "/v1/search", `{"query":"x","fusion":{"alpha":1.5}}`, []string{"fusion.alpha", "between 0 and 1"}},
		{"rrf_k", "/v1/search", `{"query":"x","fusion":{"rrfK":5000}}`, []string{"fusion.rrf_k", "between 0 and 1000"}},
		{"rerank_top_n", "/v1/search", `{"query":"x","rerankTopN":101}`, []string{"rerank_top_n", "between 0 and 100"}},
		{"max_characters", "/v1/search", `{"query":"x","contents":{"text":{"maxCharacters":-5}}}`, []string{"contents.text.max_characters"}},
		{"date range reversed", "/v1/search", `{"query":"x","filters":{"publishedDate":{"start":"2024-01-01T00:00:00Z","end":"2020-01-01T00:00:00Z"}}}`, []string{"filters.published_date"}},
		{"unknown field", "/v1/search", `{"query":"x","numResult":5}`, []string{"request body", "numResult"}},
		{"unknown enum", "/v1/search", `{"query":"x","type":"SEARCH_TYPE_MAGIC"}`, []string{"request body", "SEARCH_TYPE_MAGIC"}},
		{"bad timestamp", "/v1/search", `{"query":"x","filters":{"publishedDate":{"start":"yesterday"}}}`, []string{"request body", "Timestamp", "yesterday"}},
		{"not JSON", "/v1/search", `{"query":`, []string{"request body"}},
		{"contents without ids", "/v1/contents", `{}`, []string{"ids"}},
		{"delete without ids", "/v1/documents:delete", `{}`, []string{"ids"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.do(t, "POST", c.path, c.body)
			if r.code != http.StatusBadRequest {
				t.Fatalf("%s %s: %d %s, want 400", c.path, c.body, r.code, r.body)
			}
			m := r.json(t)
			msg, _ := m["message"].(string)
			if m["code"] != float64(3) {
				t.Errorf("code %v, want 3 (INVALID_ARGUMENT)", m["code"])
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not mention %q", msg, w)
				}
			}
		})
	}
	t.Run("field violation detail", func(t *testing.T) {
		r := ts.do(t, "POST", "/v1/search", `{"query":"x","numResults":60}`)
		var st struct {
			Details []struct {
				Type            string                   `json:"@type"`
				FieldViolations []struct{ Field string } `json:"fieldViolations"`
			}
		}
		if err := json.Unmarshal(r.body, &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Details) != 1 || st.Details[0].Type != "type.googleapis.com/google.rpc.BadRequest" ||
			len(st.Details[0].FieldViolations) != 1 || st.Details[0].FieldViolations[0].Field != "num_results" {
			t.Errorf("body %s, want a google.rpc.BadRequest detail naming num_results", r.body)
		}
	})
}

func TestHTTPBodyLimit(t *testing.T) {
	ts := startServer(t, serverSetup{opts: func(o *Options) { o.HTTP.MaxBodyBytes = 100 }})
	r := ts.do(t, "POST", "/v1/search", `{"query":"`+strings.Repeat("a", 200)+`"}`)
	if r.code != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.body), "at most 100") {
		t.Errorf("200-byte body with a 100-byte limit: %d %s, want 413", r.code, r.body)
	}
}

func TestHTTPEndpoints(t *testing.T) {
	ts := startServer(t, serverSetup{})
	t.Run("openapi", func(t *testing.T) {
		r := ts.do(t, "GET", "/openapi.json", "")
		m := r.json(t)
		paths, _ := m["paths"].(map[string]any)
		if r.code != http.StatusOK || m["swagger"] != "2.0" || paths["/v1/search"] == nil || paths["/v1/documents:upsert"] == nil {
			t.Errorf("/openapi.json: %d, swagger %v, paths %v", r.code, m["swagger"], paths)
		}
		if !strings.Contains(string(r.body), `"numResults"`) {
			t.Error("/openapi.json does not use the JSON field names (numResults)")
		}
	})
	t.Run("gzip", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.url+"/openapi.json", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil || !json.Valid(b) {
			t.Errorf("gunzipped body is not JSON (%v)", err)
		}
	})
	t.Run("gzip request", func(t *testing.T) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte(`{"query":"jazz"}`))
		_ = zw.Close()
		req, _ := http.NewRequestWithContext(t.Context(), "POST", ts.url+"/v1/search", &buf)
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if r := (httpResult{code: resp.StatusCode, body: b}); r.code != http.StatusOK || !slices.Equal(r.resultIDs(t), []string{"jazz"}) {
			t.Errorf("gzipped request: %d %s", r.code, b)
		}
	})
	t.Run("healthz", func(t *testing.T) {
		if r := ts.do(t, "GET", "/healthz", ""); r.code != http.StatusOK || !strings.Contains(string(r.body), "SERVING") {
			t.Errorf("/healthz: %d %s", r.code, r.body)
		}
		if r := ts.do(t, "GET", "/healthz?service=cari.v1.IndexService", ""); r.code != http.StatusOK {
			t.Errorf("/healthz?service=cari.v1.IndexService: %d %s", r.code, r.body)
		}
		if r := ts.do(t, "GET", "/healthz?service=nope", ""); r.code != http.StatusNotFound {
			t.Errorf("/healthz?service=nope: %d, want 404", r.code)
		}
	})
	t.Run("web page", func(t *testing.T) {
		r := ts.do(t, "GET", "/", "")
		if r.code != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("GET /: %d, Content-Type %q, CSP %q", r.code, r.header.Get("Content-Type"), r.header.Get("Content-Security-Policy"))
		}
		etag := r.header.Get("ETag")
		if r := ts.do(t, "GET", "/", "", "If-None-Match", etag); etag == "" || r.code != http.StatusNotModified {
			t.Errorf("GET / with If-None-Match %s: %d, want 304", etag, r.code)
		}
		if r := ts.do(t, "GET", "/app.js", ""); r.code != http.StatusOK || !strings.Contains(r.header.Get("Content-Type"), "javascript") {
			t.Errorf("GET /app.js: %d %q", r.code, r.header.Get("Content-Type"))
		}
		if r := ts.do(t, "GET", "/missing.js", ""); r.code != http.StatusNotFound {
			t.Errorf("GET /missing.js: %d, want 404", r.code)
		}
		if r := ts.do(t, "POST", "/", "x"); r.code != http.StatusMethodNotAllowed {
			t.Errorf("POST /: %d, want 405", r.code)
		}
	})
}

func TestCORS(t *testing.T) {
	ts := startServer(t, serverSetup{})
	const allowed = "https://app.example.com"

	r := ts.do(t, "POST", "/v1/search", `{"query":"jazz"}`, "Origin", allowed)
	if r.header.Get("Access-Control-Allow-Origin") != allowed || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Errorf("allowed origin: Access-Control-Allow-Origin %q, Expose-Headers %q", r.header.Get("Access-Control-Allow-Origin"), r.header.Get("Access-Control-Expose-Headers"))
	}
	r = ts.do(t, "OPTIONS", "/v1/search", "", "Origin", allowed, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-api-key")
	if r.code != http.StatusNoContent || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "X-Api-Key") || !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d, headers %v", r.code, r.header)
	}
	r = ts.do(t, "POST", "/v1/search", `{"query":"jazz"}`, "Origin", "https://evil.example.com")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin got Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
	}
	r = ts.do(t, "OPTIONS", "/v1/search", "", "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST")
	if r.code != http.StatusForbidden || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v, want 403 without CORS headers", r.code, r.header)
	}
}
