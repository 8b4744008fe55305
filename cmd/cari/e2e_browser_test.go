package main

// The browser test: headless Chromium (Debian's chromium package) loads the
// search page from a real cari serve, searches, and checks that results
// with URLs, dates, scores and marked highlights appear, that the API key
// flow and the keyboard work, and that the page fits a phone's screen. It
// saves screenshots in the test's artifact directory: run it with
//
//	go test -run TestBrowser -artifacts -outputdir $PWD/test-output ./cmd/cari
//
// to keep them (test-output/_artifacts/...). It is skipped with -short and
// when no Chromium is installed; CARI_CHROMIUM names another binary.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	browserSearchKey = "browser-search-key-0123456789"
	browserAdminKey  = "browser-admin-key-0123456789"
)

// browserDocs have URLs and dates, which the fixture corpus lacks.
var browserDocs = []string{
	`{"document":{"id":"b-merapi","url":"https://news.example.com/2023/merapi-eruption","title":"Merapi volcano erupts again","publishedDate":"2023-05-02T00:00:00Z","text":"Mount Merapi, the most active volcano in Indonesia, erupted on Sunday and sent ash two kilometres high. Villagers on its slopes left their homes as the eruption went on into the night."}}`,
	`{"document":{"id":"b-etna","url":"https://science.example.org/etna","title":"Why Etna keeps erupting","publishedDate":"2021-02-16T00:00:00Z","text":"Etna sits where the African plate slides under the Eurasian plate. Magma rises through fractures in the crust, and the volcano erupts several times a year."}}`,
	`{"document":{"id":"b-zh","url":"https://zh.example.com/merapi","title":"默拉皮火山再次喷发","text":"默拉皮火山是印度尼西亚最活跃的火山。它在星期日再次喷发，火山灰高达两公里。"}}`,
	`{"document":{"id":"b-ar","url":"https://ar.example.com/merapi","title":"ثوران بركان ميرابي","text":"ثار بركان ميرابي في إندونيسيا مرة أخرى يوم الأحد. غادر السكان منازلهم."}}`,
}

func chromiumPath() string {
	if p := os.Getenv("CARI_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserContext starts headless Chromium with the flags a machine without
// Internet access needs (no background networking, component updates, sync
// or QUIC probes) and a fresh profile.
func browserContext(t *testing.T, chrome string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// Start the browser now, without a timeout (a timeout on the first run
	// would stop the browser), so a broken Chromium fails here, clearly.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", chrome, err)
	}
	return ctx
}

// pageResult is what the page shows for one result.
type pageResult struct {
	Title      string   `json:"title"`
	Href       string   `json:"href"`
	URL        string   `json:"url"`
	Date       string   `json:"date"`
	Score      string   `json:"score"`
	Highlights []string `json:"highlights"`
	Marks      []string `json:"marks"`
}

const readResults = `[...document.querySelectorAll("#results .result")].map(li => ({
	title: li.querySelector(".result-link")?.textContent ?? "",
	href: li.querySelector("a.result-link")?.href ?? "",
	url: li.querySelector(".result-url")?.textContent ?? "",
	date: li.querySelector(".result-date")?.textContent ?? "",
	score: li.querySelector(".result-score")?.textContent ?? "",
	highlights: [...li.querySelectorAll(".highlight")].map(h => h.textContent),
	marks: [...li.querySelectorAll(".highlight mark")].map(m => m.textContent),
}))`

// page drives one tab, failing the test with a screenshot when a step
// fails.
type page struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func (p *page) tctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, hangGuard(p.t, 20*time.Second))
}

func (p *page) fail(what string, err error) {
	p.t.Helper()
	if png, serr := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)); serr == nil {
		_ = os.WriteFile(filepath.Join(p.shots, "failure.png"), png, 0o644)
	}
	p.t.Fatalf("%s: %v (screenshots in %s)", what, err, p.shots)
}

// do runs steps that return nothing.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := p.tctx()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail(what, err)
	}
}

// eval runs JavaScript and decodes its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := p.tctx()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fail(expr, err)
	}
	return v
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := p.tctx()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fail("screenshot", err)
	}
	if err := os.WriteFile(filepath.Join(p.shots, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func TestBrowserSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test takes seconds; run it without -short")
	}
	chrome := chromiumPath()
	if chrome == "" {
		t.Skip("no Chromium found: apt-get install chromium, or set CARI_CHROMIUM")
	}
	data := t.TempDir()
	mustCari(t, "index", "--data", data, "--corpus", fixture("corpus.jsonl"), "--max-malformed", fixtureMaxMalformed)
	srv := startServe(t, data, "CARI_AUTH_SEARCH_KEYS="+browserSearchKey, "CARI_AUTH_ADMIN_KEYS="+browserAdminKey)
	code, _, body := call(t, "POST", srv.url+"/v1/documents:upsert", strings.Join(browserDocs, "\n"), "X-Api-Key", browserAdminKey)
	if code != http.StatusOK {
		t.Fatalf("upsert: %d %s", code, body)
	}
	p := &page{t: t, ctx: browserContext(t, chrome), shots: t.ArtifactDir()}

	// A first search without a key: the page asks for one.
	p.do("search without a key",
		chromedp.Navigate(srv.url+"/"),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "volcano eruption"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("error")),
	)
	errText := eval[string](p, `document.getElementById("error").textContent`)
	if focused := eval[string](p, `document.activeElement.id`); !strings.Contains(errText, "API key") || focused != "api-key" {
		t.Errorf("without a key the page says %q with focus on #%s; want a request for an API key, focus on #api-key", errText, focused)
	}

	// Entering the key runs the search again.
	p.do("search with the key",
		chromedp.SendKeys(chromedp.ID("api-key"), browserSearchKey+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#results .result .highlight mark")),
	)
	results := eval[[]pageResult](p, readResults)
	checkResults(t, results, eval[string](p, `document.getElementById("status").textContent`))
	if eval[bool](p, `!document.getElementById("collections").hidden`) {
		t.Error("the collection picker shows on a server with only the collection default")
	}
	if loc := eval[string](p, `location.search`); !strings.Contains(loc, "q=volcano+eruption") {
		t.Errorf("location.search %q does not record the query", loc)
	}
	p.screenshot("search-desktop.png")

	// The keyboard: "/" to the query box, ArrowDown and j through results.
	eval[any](p, `document.activeElement.blur()`)
	p.do("/", chromedp.KeyEvent("/"))
	afterSlash := eval[string](p, `document.activeElement.id`)
	p.do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	afterDown := eval[string](p, `document.activeElement.textContent`)
	p.do("j", chromedp.KeyEvent("j"))
	afterJ := eval[string](p, `document.activeElement.textContent`)
	if afterSlash != "q" || len(results) < 2 || afterDown != results[0].Title || afterJ != results[1].Title {
		t.Errorf(`keyboard: "/" focused #%s, ArrowDown %q, j %q; want #q, then the first and second result titles`, afterSlash, afterDown, afterJ)
	}

	// Filters from the URL: a domain and a publication date range.
	p.do("filtered search",
		chromedp.Navigate(srv.url+"/?q=volcano&include=news.example.com&after=2022-01-01"),
		chromedp.WaitVisible(chromedp.CSS("#results .result")),
	)
	if results := eval[[]pageResult](p, readResults); len(results) != 1 || !strings.HasPrefix(results[0].URL, "news.example.com/") {
		t.Errorf("filtered to news.example.com after 2022: %+v, want the Merapi article only", results)
	}

	// A phone-sized screen: nothing wider than the viewport.
	p.do("phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(srv.url+"/?q=volcano"),
		chromedp.WaitVisible(chromedp.CSS("#results .result .highlight")),
	)
	if eval[bool](p, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("the page scrolls sideways on a 390px-wide screen")
	}
	p.screenshot("search-phone.png")
	checkScripts(p, srv.url)
	p.do("desktop", chromedp.EmulateViewport(1280, 900))
	checkLanding(p, srv.url)
	checkEmptyLanding(p)
	checkCollectionPicker(p)
	t.Logf("screenshots in %s", p.shots)
}

// pickerChoice is one collection as the picker shows it.
type pickerChoice struct {
	Name, Size, Model string
	Checked           bool
}

const readPicker = `[...document.querySelectorAll("#collection-list .collection-choice")].map(l => ({
	Name: l.querySelector(".collection-name").textContent, Size: l.querySelector(".collection-size").textContent,
	Model: l.querySelector(".collection-model").textContent, Checked: l.querySelector("input").checked}))`

// checkCollectionPicker serves a data directory with the collections kb
// and news beside an empty default: the picker lists each with its size
// and model, a collection named in the URL scopes the search to it, and
// checking a second searches both, each result naming its collection.
func checkCollectionPicker(p *page) {
	p.t.Helper()
	data := p.t.TempDir()
	news := filepath.Join(p.t.TempDir(), "news.jsonl")
	if err := os.WriteFile(news, []byte(`{"_id": "n1", "title": "Volcano news", "text": "The volcano near the town erupted again today."}
{"_id": "n2", "title": "More volcano news", "text": "Ash from the volcano closed the airport."}
`), 0o644); err != nil {
		p.t.Fatal(err)
	}
	mustCari(p.t, "index", "--data", data, "--collection", "kb", "--corpus", fixture("corpus.jsonl"), "--embedder", "none", "--max-malformed", fixtureMaxMalformed)
	mustCari(p.t, "index", "--data", data, "--collection", "news", "--corpus", news, "--embedder", "none")
	out, _ := mustCari(p.t, "stats", "--data", data, "--collection", "kb", "--json")
	var kb struct{ Documents int64 }
	if err := json.Unmarshal([]byte(out), &kb); err != nil || kb.Documents == 0 {
		p.t.Fatalf("stats of kb: %s (%v)", out, err)
	}
	srv := startServe(p.t, data)

	p.do("search kb", chromedp.Navigate(srv.url+"/?q=volcano&c=kb"), chromedp.WaitVisible(chromedp.CSS("#results .result")))
	choices := eval[[]pickerChoice](p, readPicker)
	want := []pickerChoice{
		{"default", "0 documents", "keyword only", false},
		{"kb", fmt.Sprintf("%d documents", kb.Documents), "keyword only", true},
		{"news", "2 documents", "keyword only", false},
	}
	if hidden := eval[bool](p, `document.getElementById("collections").hidden`); hidden || !slices.Equal(choices, want) {
		p.t.Errorf("picker (hidden %v) lists %+v, want %+v", hidden, choices, want)
	}
	one := eval[[]pageResult](p, readResults)
	if len(one) == 0 || strings.HasPrefix(one[0].Title, "Volcano news") || eval[int](p, `document.querySelectorAll("#results .result-collection").length`) != 0 {
		p.t.Errorf("search of kb alone: %+v, want kb's documents, not news's, and no collection names", one)
	}

	p.do("check news",
		chromedp.Click(chromedp.CSS("#collections summary")),
		chromedp.Click(chromedp.CSS(`#collection-list input[value="news"]`)),
		chromedp.WaitVisible(chromedp.CSS("#results .result-collection")),
	)
	p.screenshot("collections.png")
	shown := eval[[]string](p, `[...document.querySelectorAll("#results .result-collection")].map(e => e.textContent)`)
	if loc := eval[string](p, `location.search`); !strings.Contains(loc, "c=kb%2Cnews") || len(shown) < 3 || shown[0] != "kb" || shown[1] != "news" {
		p.t.Errorf("kb and news checked: URL %q, results from %q; want c=kb,news and results alternating kb, news", loc, shown)
	}
	if chosen := eval[string](p, `document.getElementById("collections-chosen").textContent`); chosen != "kb, news" {
		p.t.Errorf("picker summary says %q, want kb, news", chosen)
	}
	p.do("uncheck both",
		chromedp.Click(chromedp.CSS(`#collection-list input[value="kb"]`)),
		chromedp.Click(chromedp.CSS(`#collection-list input[value="news"]`)),
	)
	if checked := eval[[]string](p, `[...document.querySelectorAll("#collection-list input:checked")].map(i => i.value)`); !slices.Equal(checked, []string{"default"}) {
		p.t.Errorf("with kb and news unchecked the picker checks %q, want default, which the search then covers", checked)
	}
	p.do("landing of news", chromedp.Navigate(srv.url+"/?c=news"), chromedp.WaitVisible(chromedp.CSS("#about .about-title")))
	if got := eval[landing](p, readLanding); got.Title != "Search 2 documents" {
		p.t.Errorf("landing with news chosen: %+v, want news's 2 documents", got)
	}
}

// landing is what the page shows with no query: the index's description.
type landing struct {
	Title, Index, Model, ModelTitle, Built, Changed, Note string
	Examples                                              []string
}

const readLanding = `(() => { const a = document.getElementById("about"); const text = s => a.querySelector(s)?.textContent ?? "";
	return {Title: text(".about-title"), Index: text(".about-index"), Model: text(".about-model"),
		ModelTitle: a.querySelector(".about-model")?.title ?? "", Built: text(".about-built"), Changed: text(".about-changed"), Note: text(".about-note"),
		Examples: [...a.querySelectorAll(".example")].map(e => e.textContent)}; })()`

// checkLanding opens the page without a query (the search key is stored by
// now) and checks that it says what the server searches, as GetStats does,
// and that an example query runs a search that finds something.
func checkLanding(p *page, base string) {
	p.t.Helper()
	code, _, body := call(p.t, "GET", base+"/v1/stats", "", "X-Api-Key", browserSearchKey)
	var st struct {
		Documents         string `json:"documents"`
		ServingGeneration string `json:"servingGeneration"`
		EmbeddingModel    *struct {
			ID string `json:"id"`
		} `json:"embeddingModel"`
		ExampleQueries []string  `json:"exampleQueries"`
		LastWriteTime  time.Time `json:"lastWriteTime"`
	}
	if err := json.Unmarshal(body, &st); code != http.StatusOK || err != nil {
		p.t.Fatalf("GET /v1/stats with a search key: %d %s %v", code, body, err)
	}
	p.do("landing", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#about .about-title")))
	got := eval[landing](p, readLanding)
	p.screenshot("landing.png")
	if got.Title != "Search "+st.Documents+" documents" || !strings.Contains(got.Index, st.ServingGeneration) || got.Built == "" {
		p.t.Errorf("landing %+v; want the %s documents, generation %s and when it was built", got, st.Documents, st.ServingGeneration)
	}
	// The index was written by cari index and IndexService since its
	// generation was built: the page says when, as GetStats does.
	if want := st.LastWriteTime.UTC().Format("2006-01-02 15:04 UTC"); st.LastWriteTime.IsZero() || got.Changed != want {
		p.t.Errorf("landing says the index last changed %q; GetStats says %v", got.Changed, st.LastWriteTime)
	}
	if m := st.EmbeddingModel; (m == nil && got.Model != "none: keyword search only") || (m != nil && !strings.HasPrefix(got.Model, m.ID)) {
		p.t.Errorf("landing names the model %q; GetStats names it %+v", got.Model, m)
	}
	if len(got.Examples) == 0 || !slices.Equal(got.Examples, st.ExampleQueries) {
		p.t.Fatalf("landing offers %q; GetStats offers %q; want the same, at least one", got.Examples, st.ExampleQueries)
	}
	p.do("example query", chromedp.Click(chromedp.CSS("#about .example")), chromedp.WaitVisible(chromedp.CSS("#results .result")))
	if q, hidden := eval[string](p, `document.getElementById("q").value`), eval[bool](p, `document.getElementById("about").hidden`); q != got.Examples[0] || !hidden {
		p.t.Errorf("clicking %q searched for %q, landing hidden %v; want the example searched and the landing gone", got.Examples[0], q, hidden)
	}
}

// checkEmptyLanding serves an empty data directory: the page says the index
// is empty and how to add documents, and offers no examples.
func checkEmptyLanding(p *page) {
	p.t.Helper()
	empty := startServe(p.t, p.t.TempDir())
	p.do("empty landing", chromedp.Navigate(empty.url+"/"), chromedp.WaitVisible(chromedp.CSS("#about .about-title")))
	got := eval[landing](p, readLanding)
	commands := eval[[]string](p, `[...document.querySelectorAll("#about .about-commands code")].map(c => c.textContent)`)
	p.screenshot("landing-empty.png")
	if got.Title != "The index is empty" || len(got.Examples) != 0 || len(commands) == 0 || !strings.Contains(strings.Join(commands, "\n"), "cari index") {
		p.t.Errorf("empty index: %+v, commands %q; want it called empty with how to add documents", got, commands)
	}
}

// checkScripts searches in Chinese and in Arabic: a result carries its
// detected language, CJK query words are marked inside text without spaces,
// and Arabic runs right to left while its URL stays left to right.
func checkScripts(p *page, base string) {
	p.t.Helper()
	p.do("Chinese search",
		chromedp.Navigate(base+"/?q="+url.QueryEscape("火山喷发")),
		chromedp.WaitVisible(chromedp.CSS("#results .result .highlight mark")),
	)
	type shown struct {
		Title, Lang, Dir, URLDir string
		Marks                    []string
	}
	const read = `(() => { const li = document.querySelector("#results .result"); const h = li.querySelector(".highlight");
		return {Title: li.querySelector(".result-link").textContent, Lang: h.lang, Dir: getComputedStyle(h).direction,
			URLDir: getComputedStyle(li.querySelector(".result-url")).direction,
			Marks: [...h.querySelectorAll("mark")].map(m => m.textContent)}; })()`
	zh := eval[shown](p, read)
	if zh.Title != "默拉皮火山再次喷发" || zh.Lang != "zh" || !slices.Contains(zh.Marks, "火山") || !slices.Contains(zh.Marks, "喷发") {
		p.t.Errorf("火山喷发: first result %+v, want the Chinese article, lang zh, 火山 and 喷发 marked", zh)
	}
	p.screenshot("search-chinese.png")
	p.do("Arabic search",
		chromedp.Navigate(base+"/?q="+url.QueryEscape("بركان")),
		chromedp.WaitVisible(chromedp.CSS("#results .result .highlight")),
	)
	ar := eval[shown](p, read)
	if ar.Title != "ثوران بركان ميرابي" || ar.Dir != "rtl" || ar.URLDir != "ltr" {
		p.t.Errorf("بركان: first result %+v, want the Arabic article, its highlight right to left and its URL left to right", ar)
	}
	p.screenshot("search-arabic.png")
}

func checkResults(t *testing.T, results []pageResult, statusText string) {
	t.Helper()
	if len(results) < 3 {
		t.Fatalf("page shows %d results, want at least 3: %+v", len(results), results)
	}
	var dated, linked bool
	for _, r := range results {
		if r.Title == "" || r.URL == "" || !strings.HasPrefix(r.Score, "score ") || len(r.Highlights) == 0 {
			t.Errorf("result %+v lacks a title, URL line, score or highlight", r)
		}
		if r.Date != "" {
			dated = true
		}
		if strings.HasPrefix(r.Href, "https://") {
			linked = true
		}
		for _, m := range r.Marks {
			if lm := strings.ToLower(m); !strings.HasPrefix(lm, "volcan") && !strings.HasPrefix(lm, "erupt") {
				t.Errorf("marked %q, which is not a query term", m)
			}
		}
	}
	if !dated || !linked {
		t.Errorf("no result shows a date (%v) or links to its URL (%v): %+v", dated, linked, results)
	}
	if !strings.Contains(statusText, fmt.Sprintf("%d results", len(results))) || !strings.Contains(statusText, "keyword search") {
		t.Errorf("status line %q, want the count and the search type", statusText)
	}
}
