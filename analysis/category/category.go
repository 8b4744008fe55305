// Package category decides which of Exa's categories a document belongs
// to (company, research paper, news, pdf, github, tweet, personal site,
// financial report, people), or none, from its URL and domain, its
// markup (when a page's is at hand) and its text. It is a small set of
// weighted rules, not a learned model: every signal has a name and a
// weight below, and Classify explains its choice.
package category

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/cari-search/cari"
)

// The categories, as Exa names them.
const (
	Company         = "company"
	ResearchPaper   = "research paper"
	News            = "news"
	PDF             = "pdf"
	GitHub          = "github"
	Tweet           = "tweet"
	PersonalSite    = "personal site"
	FinancialReport = "financial report"
	People          = "people"
)

// All lists the categories.
var All = []string{Company, ResearchPaper, News, PDF, GitHub, Tweet, PersonalSite, FinancialReport, People}

// Input is what a document offers the classifier. Every field may be
// empty: corpus records have text only.
type Input struct {
	URL, Title, Text string
	// ContentType is the page's media type, when fetched.
	ContentType string
	// Markup are the page's type declarations: og:type values, schema.org
	// @type names (JSON-LD or microdata), and "citation" when it has
	// Google Scholar's citation_* meta tags.
	Markup []string
}

// threshold is the least score a category needs; below it the document
// has none. A decisive URL rule scores 10, a markup declaration 6, and
// text cues at most 5 together, so text alone decides only when it is
// clear.
const threshold = 3

// Of returns the category of a document as the indexer stores it: from
// its URL, title and text (a stored document keeps no markup).
func Of(d cari.Document) string {
	return Classify(Input{URL: d.URL, Title: d.Title, Text: d.Text})
}

// Parse returns the category name s denotes, compared without case and
// surrounding space, and whether it is one of All.
func Parse(s string) (string, bool) {
	c := strings.ToLower(strings.TrimSpace(s))
	return c, slices.Contains(All, c)
}

// Classify returns the document's category, or "" when none fits.
func Classify(in Input) string {
	c, _ := Explain(in)
	return c
}

// Explain returns the category and the score of every category.
func Explain(in Input) (string, map[string]float64) {
	s := map[string]float64{}
	urlSignals(in, s)
	markupSignals(in.Markup, s)
	textSignals(in.Title, in.Text, s)
	best := ""
	for _, c := range All { // All's order breaks ties
		if s[c] >= threshold && (best == "" || s[c] > s[best]) {
			best = c
		}
	}
	return best, s
}

// Domains whose pages are of one category.
var (
	paperHosts = []string{"arxiv.org", "doi.org", "pubmed.ncbi.nlm.nih.gov", "ncbi.nlm.nih.gov", "biorxiv.org", "medrxiv.org",
		"semanticscholar.org", "dl.acm.org", "ieeexplore.ieee.org", "link.springer.com", "sciencedirect.com", "aclanthology.org",
		"openreview.net", "jstor.org", "researchgate.net", "plos.org", "frontiersin.org", "mdpi.com", "nature.com", "science.org", "pnas.org"}
	newsHosts = []string{"nytimes.com", "bbc.co.uk", "bbc.com", "reuters.com", "apnews.com", "cnn.com", "theguardian.com",
		"washingtonpost.com", "wsj.com", "bloomberg.com", "ft.com", "aljazeera.com", "npr.org", "theverge.com", "techcrunch.com",
		"kompas.com", "detik.com", "tempo.co", "cnbc.com", "forbes.com", "news.yahoo.com", "economist.com", "axios.com"}
	personalHosts = []string{"github.io", "blogspot.com", "wordpress.com", "substack.com", "medium.com", "netlify.app", "neocities.org"}
	tweetHosts    = []string{"twitter.com", "x.com", "mobile.twitter.com"}
	// githubHosts serve a repository's pages, gists and raw files (a
	// raw.github.com link missed in the tune half of testdata/urls.tsv).
	githubHosts = []string{"github.com", "gist.github.com", "raw.github.com", "raw.githubusercontent.com"}
)

var (
	datePath    = regexp.MustCompile(`/(19|20)\d\d/(0?[1-9]|1[0-2])(/|$)`)
	financeName = regexp.MustCompile(`(?i)(10-k|10-q|20-f|annual[-_ ]?report|quarterly[-_ ]?report|earnings|investor[-_ ]?relations|/investors?/)`)
)

func hostIs(host string, list []string) bool {
	for _, h := range list {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// urlSignals scores what the URL says.
func urlSignals(in Input, s map[string]float64) {
	if strings.Contains(strings.ToLower(in.ContentType), "pdf") {
		s[PDF] += 10
	}
	u, err := url.Parse(in.URL)
	if err != nil || u.Host == "" {
		return
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	path := strings.ToLower(u.EscapedPath())
	switch {
	case strings.HasSuffix(path, ".pdf"):
		s[PDF] += 10
	case slices.Contains(githubHosts, host):
		s[GitHub] += 10
	case hostIs(host, tweetHosts) && strings.Contains(path, "/status/"):
		s[Tweet] += 10
	case hostIs(host, []string{"linkedin.com"}) && strings.HasPrefix(path, "/in/"):
		s[People] += 10
	case hostIs(host, []string{"linkedin.com"}) && strings.HasPrefix(path, "/company/"):
		s[Company] += 10
	case host == "sec.gov" || strings.HasSuffix(host, ".sec.gov"):
		s[FinancialReport] += 10
	case hostIs(host, paperHosts):
		s[ResearchPaper] += 8
	case hostIs(host, newsHosts):
		s[News] += 8
	case hostIs(host, personalHosts):
		s[PersonalSite] += 6
	}
	if financeName.MatchString(path) || strings.HasPrefix(host, "investor.") || strings.HasPrefix(host, "ir.") {
		s[FinancialReport] += 5
	}
	if datePath.MatchString(path) || strings.Contains(path, "/news/") {
		s[News] += 3
	}
	for _, p := range []string{"/people/", "/team/", "/staff/", "/profile/", "/~"} {
		if strings.Contains(path, p) {
			s[People] += 3
		}
	}
	if path == "" || path == "/" || strings.HasPrefix(path, "/about") || strings.HasPrefix(path, "/company") ||
		strings.HasPrefix(path, "/careers") || strings.HasPrefix(path, "/pricing") || strings.HasPrefix(path, "/products") {
		s[Company] += 2
	}
}

// markupSignals scores what the page declares itself to be.
func markupSignals(markup []string, s map[string]float64) {
	for _, m := range markup {
		switch strings.ToLower(m) {
		case "newsarticle", "reportagenewsarticle", "analysisnewsarticle":
			s[News] += 6
		case "article":
			s[News] += 2
		case "scholarlyarticle", "medicalscholarlyarticle", "citation":
			s[ResearchPaper] += 6
		case "person", "profile", "profilepage":
			s[People] += 6
		case "organization", "corporation", "localbusiness":
			s[Company] += 4
		case "blogposting", "blog":
			s[PersonalSite] += 4
		case "socialmediaposting":
			s[Tweet] += 4
		}
	}
}

// cue is a phrase whose presence adds weight to a category.
type cue struct {
	phrase   string
	category string
	weight   float64
}

// cues are written in lower case, English and Indonesian (the languages
// Cari analyses best). The weights of one category's cues sum past the
// threshold only when several agree.
var cues = []cue{
	// Research papers: an abstract's vocabulary.
	{"abstract", ResearchPaper, 1}, {"we propose", ResearchPaper, 1.5}, {"we show", ResearchPaper, 1}, {"we found", ResearchPaper, 1},
	{"we present", ResearchPaper, 1}, {"results", ResearchPaper, 0.7}, {"methods", ResearchPaper, 0.7}, {"study", ResearchPaper, 0.7},
	{"significant", ResearchPaper, 0.8}, {"p <", ResearchPaper, 1.5}, {"p=", ResearchPaper, 1}, {"et al", ResearchPaper, 1},
	{"experiment", ResearchPaper, 0.8}, {"patients", ResearchPaper, 0.8}, {"analysis", ResearchPaper, 0.5}, {"hypothesis", ResearchPaper, 1},
	{"conclusion", ResearchPaper, 0.8}, {"data", ResearchPaper, 0.4}, {"theory", ResearchPaper, 0.6}, {"measured", ResearchPaper, 0.6},
	{"investigated", ResearchPaper, 0.8}, {"obtained", ResearchPaper, 0.6}, {"cells", ResearchPaper, 0.6}, {"doi:", ResearchPaper, 1.5},
	{"penelitian", ResearchPaper, 1}, {"hasil", ResearchPaper, 0.3},
	{"we report", ResearchPaper, 1}, {"we investigated", ResearchPaper, 1}, {"our results", ResearchPaper, 1}, {"background", ResearchPaper, 0.5},
	{"investigation", ResearchPaper, 0.6}, {"measurements", ResearchPaper, 0.6}, {"experimental", ResearchPaper, 0.8}, {"theoretical", ResearchPaper, 0.8},
	{"equations", ResearchPaper, 0.8}, {"solution", ResearchPaper, 0.4}, {"effects", ResearchPaper, 0.5}, {"demonstrate", ResearchPaper, 0.6},
	{"suggest", ResearchPaper, 0.5}, {"associated with", ResearchPaper, 0.6}, {"compared", ResearchPaper, 0.5}, {"expression", ResearchPaper, 0.5},
	{"protein", ResearchPaper, 0.6}, {"gene", ResearchPaper, 0.4}, {"clinical", ResearchPaper, 0.6}, {"trial", ResearchPaper, 0.5},
	{"model", ResearchPaper, 0.3}, {"parameter", ResearchPaper, 0.5}, {"determined", ResearchPaper, 0.5}, {"is presented", ResearchPaper, 0.8},
	{"are presented", ResearchPaper, 0.8}, {"derived", ResearchPaper, 0.5}, {"approximate", ResearchPaper, 0.5}, {"increased", ResearchPaper, 0.4},
	{"reduced", ResearchPaper, 0.4}, {"mechanism", ResearchPaper, 0.5}, {"in vivo", ResearchPaper, 1}, {"in vitro", ResearchPaper, 1},
	{"respectively", ResearchPaper, 0.6}, {"boundary layer", ResearchPaper, 0.8}, {"mach number", ResearchPaper, 0.8}, {"coefficient", ResearchPaper, 0.6},
	{"the problem of", ResearchPaper, 0.8}, {"is described", ResearchPaper, 0.8}, {"are described", ResearchPaper, 0.8}, {"is obtained", ResearchPaper, 0.8},
	{"is derived", ResearchPaper, 0.8}, {"is considered", ResearchPaper, 0.6}, {"is discussed", ResearchPaper, 0.8}, {"is shown", ResearchPaper, 0.8},
	{"are given", ResearchPaper, 0.6}, {"is given", ResearchPaper, 0.5}, {"effect of", ResearchPaper, 0.6}, {"have been", ResearchPaper, 0.4},
	{"has been", ResearchPaper, 0.4}, {"pressure", ResearchPaper, 0.4}, {"virus", ResearchPaper, 0.5}, {"cellular", ResearchPaper, 0.6},
	{"distribution", ResearchPaper, 0.4}, {"stress", ResearchPaper, 0.4}, {"design", ResearchPaper, 0.3}, {"urban", ResearchPaper, 0.2},
	{"observed", ResearchPaper, 0.6}, {"indicate", ResearchPaper, 0.6}, {"previous", ResearchPaper, 0.4}, {"recent", ResearchPaper, 0.3},
	// Financial reports.
	{"fiscal year", FinancialReport, 1.5}, {"net income", FinancialReport, 1.5}, {"revenue", FinancialReport, 1}, {"earnings per share", FinancialReport, 2},
	{"balance sheet", FinancialReport, 1.5}, {"shareholders", FinancialReport, 1}, {"quarter", FinancialReport, 0.5}, {"form 10-k", FinancialReport, 2},
	{"laporan keuangan", FinancialReport, 2}, {"laba bersih", FinancialReport, 2},
	// People: a biography's phrasing.
	{"was born", People, 3}, {"(born", People, 3}, {"lahir di", People, 3}, {"lahir pada", People, 3}, {"dilahirkan", People, 3},
	{"lahir dan", People, 3}, {"lahir tahun", People, 3}, {"his father", People, 1}, {"her father", People, 1}, {"his wife", People, 1},
	{"her husband", People, 1}, {"ayahnya", People, 1}, {"ibunya", People, 1}, {"keluarganya", People, 1}, {"istrinya", People, 1},
	{"suaminya", People, 1}, {" binti ", People, 2}, {" bin ", People, 1.5}, {"masih kecil", People, 1.5}, {"masa kecil", People, 1.5},
	{"ia menerima", People, 1}, {"ia bertemu", People, 1}, {"hadiah nobel", People, 1}, {"ia merupakan", People, 1}, {"ia adalah", People, 1}, {"his career", People, 1}, {"her career", People, 1},
	{"anak kedua", People, 1}, {"anak pertama", People, 1}, {"died", People, 0.5}, {"meninggal", People, 0.8}, {"married", People, 0.8},
	{"menikah", People, 0.8}, {"karier", People, 0.8}, {"penyanyi", People, 1}, {"aktor", People, 1}, {"politikus", People, 1},
	// Companies.
	{"founded in", Company, 1}, {"headquartered", Company, 1.5}, {"our customers", Company, 1.5}, {"our products", Company, 1.5},
	{"inc.", Company, 1}, {"ltd", Company, 0.8}, {"perusahaan", Company, 1}, {"mendirikan", Company, 0.8}, {"didirikan", Company, 0.8},
	{"ceo", Company, 1}, {"presiden direktur", Company, 1}, {"contact sales", Company, 1.5},
	// News.
	{"reported", News, 0.8}, {"said on", News, 1.5}, {"according to", News, 0.6}, {"reuters", News, 1.5}, {"associated press", News, 1.5},
	{"told reporters", News, 1.5}, {"on monday", News, 0.8}, {"on tuesday", News, 0.8}, {"on wednesday", News, 0.8},
	{"on thursday", News, 0.8}, {"on friday", News, 0.8}, {"kata dia", News, 1}, {"ujarnya", News, 1.5}, {"dikutip dari", News, 1.5},
}

// textSignals scores the title and the start of the text: cues, and a
// tweet's shape (short, with handles or hashtags).
func textSignals(title, text string, s map[string]float64) {
	head := text
	if len(head) > 3000 {
		head = head[:3000]
	}
	low := strings.ToLower(title + "\n" + head)
	got := map[string]float64{}
	for _, c := range cues {
		if strings.Contains(low, c.phrase) {
			got[c.category] += c.weight
		}
	}
	for c, w := range got {
		s[c] += min(w, 5)
	}
	// Software documentation reads like a paper's methods section but is
	// none of the categories.
	for _, d := range []string{"source code:", "¶", "parameters:", "return type", ">>> "} {
		if strings.Contains(low, d) {
			s[ResearchPaper] -= 2
		}
	}
	if n := len(strings.TrimSpace(text)); n > 0 && n <= 280 && (strings.Contains(text, "@") || strings.Contains(text, "#")) {
		s[Tweet] += 2
	}
}
