package store

import (
	"testing"
	"time"

	"github.com/cari-search/cari"
)

// Every field a store keeps, but the crawl time, changes the fingerprint:
// a changed field must replace the stored document.
func TestFingerprintCoversStoredFields(t *testing.T) {
	base := Entry{
		Doc: cari.Document{ID: "a", URL: "https://x.org/a", Title: "T", Text: "body text", Author: "A",
			Published: time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC), Language: "en", Domain: "x.org", ContentHash: "h"},
		Chunks: []cari.Chunk{{Start: 0, End: 4}, {Ordinal: 1, Start: 5, End: 9}},
	}
	fp := Fingerprint(base)
	changes := map[string]func(e *Entry){
		"id":        func(e *Entry) { e.Doc.ID = "b" },
		"url":       func(e *Entry) { e.Doc.URL = "https://x.org/b" },
		"title":     func(e *Entry) { e.Doc.Title = "U" },
		"text":      func(e *Entry) { e.Doc.Text = "body texT" },
		"author":    func(e *Entry) { e.Doc.Author = "B" },
		"published": func(e *Entry) { e.Doc.Published = e.Doc.Published.Add(time.Second) },
		"language":  func(e *Entry) { e.Doc.Language = "de" },
		"domain":    func(e *Entry) { e.Doc.Domain = "y.org" },
		"hash":      func(e *Entry) { e.Doc.ContentHash = "g" },
		"category":  func(e *Entry) { e.Doc.Category = "news" },
		"chunks":    func(e *Entry) { e.Chunks = e.Chunks[:1] },
		"shifted":   func(e *Entry) { e.Doc.Title, e.Doc.Text = "T"+"b", "ody text" },
	}
	for name, change := range changes {
		e := base
		e.Chunks = append([]cari.Chunk(nil), base.Chunks...)
		change(&e)
		if Fingerprint(e) == fp {
			t.Errorf("changing the %s keeps the fingerprint", name)
		}
	}
	same := base
	same.Doc.Crawled = time.Now()
	same.Vectors = [][]float32{{1}, {2}}
	same.Doc.Published = base.Doc.Published.In(time.FixedZone("x", 3600))
	if Fingerprint(same) != fp {
		t.Error("the crawl time, the vectors or the published time's zone change the fingerprint")
	}
}
