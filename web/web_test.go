package web

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDistMatchesSources checks dist.sha256, which the build writes: every
// file of src/ and dist/ must be listed with its digest, so an edit to
// src/ without `make web`, or a hand edit to dist/, fails here without npm.
func TestDistMatchesSources(t *testing.T) {
	f, err := os.Open("dist.sha256")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("dist.sha256: bad line %q", sc.Text())
		}
		want[name] = sum
	}
	var got []string
	for _, dir := range []string{"src", "dist"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := dir + "/" + e.Name()
			got = append(got, name)
			b, err := os.ReadFile(filepath.FromSlash(name))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if w, ok := want[name]; !ok {
				t.Errorf("%s is not in dist.sha256: run make web", name)
			} else if w != hex.EncodeToString(sum[:]) {
				t.Errorf("%s changed since the last build: run make web", name)
			}
		}
	}
	for name := range want {
		if !slices.Contains(got, name) {
			t.Errorf("dist.sha256 lists %s, which is gone: run make web", name)
		}
	}
}

func TestDist(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "api.js", "render.js", "style.css"} {
		if _, err := fs.Stat(Dist(), name); err != nil {
			t.Errorf("embedded page lacks %s: %v", name, err)
		}
	}
}
