package exa_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/server/internal/servertest"
)

// specDocs are indexed beside the fixture for the spec test: records as a
// BEIR corpus imports them, with neither URL nor title, and a page without
// a title.
var specDocs = []cari.Document{
	{ID: "claim-17", Text: "Basaltic magma erupts from shield volcanoes in gentle lava flows. Its low viscosity lets gas escape."},
	{ID: "doc with spaces/1", Text: "Volcanic ash clouds ground aircraft because ash melts inside jet engines."},
	{ID: "untitled", URL: "https://geo.example.com/untitled", Text: "Pyroclastic flows are the deadliest volcanic hazard: hot gas and rock race downhill."},
}

// specSchemas are the response schemas of Exa's published OpenAPI document
// (testdata/exa-openapi-schemas.yaml names its source and commit), by the
// JSON pointer of each operation's response.
type specSchemas struct {
	search, findSimilar, contents, answer, answerEvent *jsonschema.Schema
	// exaError is the error body Exa's SDKs read; the spec defines none.
	exaError *jsonschema.Schema
}

// loadSpec compiles the response schemas.
func loadSpec(t *testing.T) specSchemas {
	t.Helper()
	const base = servertest.ExaSpec
	c := servertest.SpecCompiler(t, "testdata/exa-openapi-schemas.yaml")
	errorSchema := map[string]any{
		"type":     "object",
		"required": []any{"requestId", "error", "tag"},
		"properties": map[string]any{
			"requestId": map[string]any{"type": "string", "minLength": 1},
			"error":     map[string]any{"type": "string", "minLength": 1},
			"tag":       map[string]any{"type": "string", "minLength": 1},
		},
	}
	if err := c.AddResource("https://cari.example/exa-error.json", errorSchema); err != nil {
		t.Fatal(err)
	}
	compile := func(loc string) *jsonschema.Schema {
		s, err := c.Compile(loc)
		if err != nil {
			t.Fatalf("compile %s: %v", loc, err)
		}
		return s
	}
	resp := func(name, media string) *jsonschema.Schema {
		return compile(base + "#/components/responses/" + name + "/content/" + strings.ReplaceAll(media, "/", "~1") + "/schema")
	}
	return specSchemas{
		search:      resp("SearchResponse", "application/json"),
		findSimilar: resp("FindSimilarResponse", "application/json"),
		contents:    resp("ContentsResponse", "application/json"),
		answer:      resp("AnswerResponse", "application/json"),
		answerEvent: resp("AnswerResponse", "text/event-stream"),
		exaError:    compile("https://cari.example/exa-error.json"),
	}
}

// specCase is one request of the spec test.
type specCase struct {
	name, path, body string
	// code is the HTTP status expected; an error's body is checked against
	// Exa's error shape.
	code int
}

// specCases are broad on purpose: every endpoint, every filter, every
// contents option, streamed answers and bad input.
var specCases = []specCase{
	{"search plain", "/search", `{"query":"volcano"}`, 200},
	{"search text top-level", "/search", `{"query":"volcano","text":true}`, 200},
	{"search type auto", "/search", `{"query":"volcano","type":"auto"}`, 200},
	{"search type fast", "/search", `{"query":"volcano","type":"fast"}`, 200},
	{"search type keyword", "/search", `{"query":"volcano","type":"keyword"}`, 200},
	{"search type deep", "/search", `{"query":"volcano eruption","type":"deep","additionalQueries":["magma lava"]}`, 200},
	// Variations of its own need a chat model, which the fixture has not.
	{"search type deep, no model", "/search", `{"query":"volcano eruption","type":"deep"}`, 501},
	{"search type instant", "/search", `{"query":"volcano","type":"instant"}`, 200},
	{"search numResults 1", "/search", `{"query":"volcano","numResults":1}`, 200},
	{"search text maxCharacters", "/search", `{"query":"volcano","contents":{"text":{"maxCharacters":30}}}`, 200},
	{"search highlights true", "/search", `{"query":"volcano ash","contents":{"highlights":true}}`, 200},
	{"search highlights options", "/search", `{"query":"volcano ash","contents":{"highlights":{"numSentences":1,"highlightsPerUrl":2,"maxCharacters":40}}}`, 200},
	{"search text and highlights", "/search", `{"query":"magma","contents":{"text":true,"highlights":true}}`, 200},
	{"search includeDomains", "/search", `{"query":"volcano","includeDomains":["geo.example.com"]}`, 200},
	{"search excludeDomains", "/search", `{"query":"volcano","excludeDomains":["geo.example.com"]}`, 200},
	{"search published dates", "/search", `{"query":"volcano","startPublishedDate":"2021-01-01","endPublishedDate":"2024-01-01T00:00:00.000Z"}`, 200},
	{"search crawl dates", "/search", `{"query":"volcano","startCrawlDate":"2000-01-01T00:00:00Z"}`, 200},
	{"search includeText", "/search", `{"query":"volcano","includeText":["magma"]}`, 200},
	{"search excludeText", "/search", `{"query":"volcano","excludeText":["Sunday"]}`, 200},
	{"search category", "/search", `{"query":"volcano","category":"news"}`, 200},
	{"search summary and context", "/search", `{"query":"volcano","contents":{"summary":true},"context":true}`, 200},
	{"search corpus records", "/search", `{"query":"magma lava viscosity ash engines","contents":{"text":true}}`, 200},
	{"search untitled page", "/search", `{"query":"pyroclastic flows"}`, 200},
	{"search no match", "/search", `{"query":"zzzyzzx"}`, 200},
	{"search numResults 0", "/search", `{"query":"volcano","numResults":0}`, 400},
	{"search numResults 1000", "/search", `{"query":"volcano","numResults":1000}`, 400},
	{"search numResults string", "/search", `{"query":"volcano","numResults":"ten"}`, 400},
	{"search bad type", "/search", `{"query":"volcano","type":"psychic"}`, 400},
	{"search bad date", "/search", `{"query":"volcano","endPublishedDate":"yesterday"}`, 400},
	{"search empty body", "/search", ``, 400},
	{"search stream", "/search", `{"query":"volcano","stream":true}`, 501},
	{"findSimilar", "/findSimilar", `{"url":"https://geo.example.com/volcano"}`, 200},
	{"findSimilar text top-level", "/findSimilar", `{"url":"https://geo.example.com/volcano","text":true}`, 200},
	{"findSimilar contents", "/findSimilar", `{"url":"https://geo.example.com/volcano","excludeSourceDomain":true,"contents":{"highlights":true}}`, 200},
	{"findSimilar corpus record", "/findSimilar", `{"url":"cari:doc/claim-17"}`, 200},
	{"findSimilar unknown url", "/findSimilar", `{"url":"https://nowhere.example.com/"}`, 404},
	{"findSimilar no url", "/findSimilar", `{}`, 400},
	{"contents urls", "/contents", `{"urls":["https://geo.example.com/volcano"]}`, 200},
	{"contents ids", "/contents", `{"ids":["jazz"],"text":true}`, 200},
	{"contents missing url", "/contents", `{"urls":["https://geo.example.com/volcano","https://nowhere.example.com/"]}`, 200},
	{"contents text maxCharacters", "/contents", `{"urls":["https://music.example.org/jazz"],"text":{"maxCharacters":10}}`, 200},
	{"contents highlights query", "/contents", `{"ids":["jazz"],"highlights":{"query":"New Orleans"}}`, 200},
	{"contents highlights no query", "/contents", `{"ids":["volcano","claim-17"],"highlights":true}`, 200},
	{"contents summary", "/contents", `{"ids":["volcano","claim-17"],"summary":{"query":"why does it erupt"}}`, 200},
	{"contents corpus records", "/contents", `{"ids":["claim-17","doc with spaces/1"]}`, 200},
	{"contents by default URI", "/contents", `{"urls":["cari:doc/claim-17"]}`, 200},
	{"contents nothing asked", "/contents", `{}`, 400},
	{"answer", "/answer", `{"query":"why do volcanoes erupt"}`, 200},
	{"answer text", "/answer", `{"query":"why do volcanoes erupt","text":true}`, 200},
	{"answer corpus records", "/answer", `{"query":"magma viscosity gas"}`, 200},
	{"answer stream", "/answer", `{"query":"why do volcanoes erupt","stream":true}`, 200},
	{"answer stream text", "/answer", `{"query":"magma viscosity gas","stream":true,"text":true}`, 200},
	{"answer outputSchema", "/answer", `{"query":"volcano","outputSchema":{"type":"object"}}`, 501},
}

// TestExaResponsesMatchSpec sends every specCase and validates the answer
// against Exa's published response schema for its operation; a result's
// score must also lie in [0, 1], as the schema's description says.
func TestExaResponsesMatchSpec(t *testing.T) {
	checkSpecCases(t, startServer(t, serverSetup{docs: specDocs}), specCases)
}

// vectorSpecCases are the requests whose answers change when the index
// has vectors: neural and hybrid retrieval (and auto, which resolves to
// hybrid), alone and with filters and contents, find-similar by passage
// vectors, and answers cited from hybrid results.
var vectorSpecCases = []specCase{
	{"search type neural", "/search", `{"query":"volcano eruption","type":"neural"}`, 200},
	{"search type auto", "/search", `{"query":"volcano eruption","type":"auto"}`, 200},
	{"search type hybrid", "/search", `{"query":"volcano eruption","type":"hybrid"}`, 200},
	{"search type fast", "/search", `{"query":"volcano eruption","type":"fast"}`, 200},
	{"search type keyword", "/search", `{"query":"volcano eruption","type":"keyword"}`, 200},
	{"search type deep", "/search", `{"query":"volcano eruption","type":"deep","additionalQueries":["magma lava"]}`, 200},
	{"search neural contents", "/search", `{"query":"magma and ash","type":"neural","contents":{"text":{"maxCharacters":40},"highlights":{"numSentences":1}}}`, 200},
	{"search hybrid filters", "/search", `{"query":"volcano","type":"hybrid","includeDomains":["news.example.com"],"startPublishedDate":"2022-01-01","category":"news"}`, 200},
	{"search neural corpus records", "/search", `{"query":"lava viscosity gas engines","type":"neural","text":true}`, 200},
	{"search auto summary and context", "/search", `{"query":"volcano","contents":{"summary":true},"context":true}`, 200},
	{"search hybrid debug", "/search", `{"query":"volcano","type":"hybrid","debug":true}`, 200},
	{"search neural no match", "/search", `{"query":"zzzyzzx","type":"neural"}`, 200},
	{"findSimilar", "/findSimilar", `{"url":"https://geo.example.com/volcano","contents":{"text":true}}`, 200},
	{"findSimilar corpus record", "/findSimilar", `{"url":"cari:doc/claim-17","excludeSourceDomain":true}`, 200},
	{"answer", "/answer", `{"query":"why do volcanoes erupt","text":true}`, 200},
	{"answer stream", "/answer", `{"query":"why do volcanoes erupt","stream":true}`, 200},
	{"contents", "/contents", `{"urls":["cari:doc/claim-17"],"highlights":true}`, 200},
}

// TestExaVectorResponsesMatchSpec validates the answers of a server whose
// index has vectors (servertest.Embedder, a tiny hashed-words model in the
// repository) against Exa's spec, as TestExaResponsesMatchSpec does for a
// keyword-only one: neural and hybrid scores must lie in [0, 1] too.
func TestExaVectorResponsesMatchSpec(t *testing.T) {
	ts := startServer(t, serverSetup{docs: specDocs, vectors: true})
	checkSpecCases(t, ts, vectorSpecCases)
	// The retrieval the cases are about did run.
	for typ, want := range map[string]string{"neural": "neural", "hybrid": "hybrid", "auto": "hybrid"} {
		if _, m, _ := exaDo(t, ts, "/search", `{"query":"volcano eruption","type":"`+typ+`"}`); m["resolvedSearchType"] != want {
			t.Errorf("type %s resolved to %v, want %s", typ, m["resolvedSearchType"], want)
		}
	}
}

// checkSpecCases sends every case to ts and validates each answer against
// Exa's published response schema for its operation; a result's score
// must also lie in [0, 1], as the schema's description says.
func checkSpecCases(t *testing.T, ts *testServer, cases []specCase) {
	spec := loadSpec(t)
	var valid, inRange, asExpected int
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(t, "POST", tc.path, tc.body)
			if r.code == tc.code {
				asExpected++
			} else {
				t.Errorf("status %d, want %d: %s", r.code, tc.code, r.body)
			}
			schemaErrs, rangeErrs := specErrors(spec, tc.path, r)
			if len(schemaErrs) == 0 {
				valid++
			}
			if len(rangeErrs) == 0 {
				inRange++
			}
			for _, err := range append(schemaErrs, rangeErrs...) {
				t.Error(err)
			}
		})
	}
	t.Logf("of %d responses: %d valid against Exa's spec, %d with every score in [0, 1], %d with the expected status",
		len(cases), valid, inRange, asExpected)
}

// specErrors validates one response: an error against Exa's error shape,
// a stream event by event, anything else against its operation's schema.
// It returns what the schema rejects apart from what it does not check:
// a score outside [0, 1], and entities (left out of the excerpt).
func specErrors(spec specSchemas, path string, r httpResult) (schemaErrs, rangeErrs []error) {
	if r.code != 200 {
		return validateJSON(spec.exaError, r.body)
	}
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		for _, data := range sseData(r.body) {
			if data == "[DONE]" {
				continue
			}
			s, rg := validateJSON(spec.answerEvent, []byte(data))
			schemaErrs, rangeErrs = append(schemaErrs, s...), append(rangeErrs, rg...)
		}
		return schemaErrs, rangeErrs
	}
	s := map[string]*jsonschema.Schema{"/search": spec.search, "/findSimilar": spec.findSimilar, "/contents": spec.contents, "/answer": spec.answer}[path]
	return validateJSON(s, r.body)
}

// validateJSON checks body against s, then the range of every score and
// the absence of entities.
func validateJSON(s *jsonschema.Schema, body []byte) (schemaErrs, rangeErrs []error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return []error{fmt.Errorf("body is not JSON: %v: %s", err, body)}, nil
	}
	if err := s.Validate(v); err != nil {
		schemaErrs = append(schemaErrs, fmt.Errorf("%v\nbody: %s", err, body))
	}
	m, _ := v.(map[string]any)
	for _, key := range []string{"results", "citations"} {
		rs, _ := m[key].([]any)
		for i, r := range rs {
			rm, _ := r.(map[string]any)
			if sc, ok := rm["score"].(json.Number); ok {
				if f, _ := sc.Float64(); f < 0 || f > 1 {
					rangeErrs = append(rangeErrs, fmt.Errorf("%s[%d].score %v is outside [0, 1]", key, i, sc))
				}
			}
			if _, ok := rm["entities"]; ok {
				schemaErrs = append(schemaErrs, fmt.Errorf("%s[%d] has entities", key, i))
			}
		}
	}
	return schemaErrs, rangeErrs
}

// sseData is the data of each server-sent event in body.
func sseData(body []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}
