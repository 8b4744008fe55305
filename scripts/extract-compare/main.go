// Command extract-compare measures main-text extractors on the Python
// documentation (Debian's python3.11-doc): go-trafilatura, go-readability,
// and Cari's own extraction (readability inside the page's main landmark,
// extract.Decoded). Sphinx marks each page's body with role="main"; its
// text is the reference. For each extractor it reports the share of the
// reference's words kept (recall), the share of the output's words that
// are in the reference (precision), the pages whose output holds
// navigation or footer text that is not in the body, and the time per page
// (parsing included).
//
//	cd scripts/extract-compare && go run . [-dir /usr/share/doc/python3.11/html]
//
// It is a module of its own so that the extractor Cari does not use stays
// out of Cari's module graph.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/PuerkitoBio/goquery"
	"github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	"github.com/cari-search/cari/extract"
)

// boilerplate is text of Sphinx's sidebar, header and footer.
var boilerplate = []string{"Previous topic", "Next topic", "This Page", "Report a Bug", "Quick search", "Navigation", "Copyright"}

type extractor struct {
	name string
	run  func(body []byte, u *url.URL) string
}

type score struct {
	kept, ref, out int
	boiler, empty  int
	below90        int
	dur            time.Duration
}

func words(s string) map[string]int {
	m := map[string]int{}
	for _, w := range strings.Fields(strings.ToLower(s)) {
		m[w]++
	}
	return m
}

func main() {
	dir := flag.String("dir", "/usr/share/doc/python3.11/html", "the Python documentation's HTML directory")
	flag.Parse()
	var files []string
	err := filepath.Walk(*dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".html") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "no pages:", err, "(apt-get install python3.11-doc)")
		os.Exit(1)
	}
	extractors := []extractor{
		{"go-trafilatura v1.12.2", func(body []byte, u *url.URL) string {
			doc, _ := html.Parse(bytes.NewReader(body))
			r, err := trafilatura.ExtractDocument(doc, trafilatura.Options{OriginalURL: u, ExcludeComments: true})
			if err != nil {
				return ""
			}
			return r.ContentText
		}},
		{"go-trafilatura v1.12.2, with fallback", func(body []byte, u *url.URL) string {
			doc, _ := html.Parse(bytes.NewReader(body))
			r, err := trafilatura.ExtractDocument(doc, trafilatura.Options{OriginalURL: u, ExcludeComments: true, EnableFallback: true})
			if err != nil {
				return ""
			}
			return r.ContentText
		}},
		{"readeck/go-readability v2.1.3", func(body []byte, u *url.URL) string {
			a, err := readability.FromReader(bytes.NewReader(body), u)
			if err != nil || a.Node == nil {
				return ""
			}
			var b strings.Builder
			a.RenderText(&b)
			return b.String()
		}},
		{"Cari: readability in the main landmark (extract.Decoded)", func(body []byte, u *url.URL) string {
			p, err := extract.Decoded(u, "text/html", body, nil)
			if err != nil {
				return ""
			}
			return p.Document.Text
		}},
	}
	scores := make([]score, len(extractors))
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		gq, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
		if err != nil {
			continue
		}
		refText := gq.Find("div[role=main]").Text()
		ref := words(refText)
		u, _ := url.Parse("http://127.0.0.1/" + filepath.ToSlash(strings.TrimPrefix(f, *dir)))
		for i, e := range extractors {
			start := time.Now()
			text := e.run(body, u)
			s := &scores[i]
			s.dur += time.Since(start)
			got := words(text)
			kept, nref, nout := 0, 0, 0
			for w, c := range ref {
				nref += c
				kept += min(c, got[w])
			}
			for _, c := range got {
				nout += c
			}
			s.kept, s.ref, s.out = s.kept+kept, s.ref+nref, s.out+nout
			if strings.TrimSpace(text) == "" {
				s.empty++
			}
			if nref > 0 && float64(kept) < 0.9*float64(nref) {
				s.below90++
			}
			for _, b := range boilerplate {
				if strings.Contains(text, b) && !strings.Contains(refText, b) {
					s.boiler++
					break
				}
			}
		}
	}
	fmt.Printf("%d pages of %s\n\n", len(files), *dir)
	fmt.Println("| extractor | recall | precision | pages with navigation or footer text | pages under 0.9 recall | empty | ms/page |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	for i, e := range extractors {
		s := scores[i]
		fmt.Printf("| %s | %.3f | %.3f | %d | %d | %d | %.1f |\n", e.name,
			float64(s.kept)/float64(s.ref), float64(s.kept)/float64(s.out), s.boiler, s.below90, s.empty,
			float64(s.dur.Microseconds())/1000/float64(len(files)))
	}
}
