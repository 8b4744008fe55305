package reindex

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzWARC reads arbitrary bytes as a WARC file (plain, or gzip members
// when the bytes are). Reading never panics and ends: every record is a
// document, a skip or a failure with a reason, and a file the reader cannot
// go on with ends the source with an error naming it. Seeds, among them a
// valid file plain and gzip-compressed (written with writeWARC), are in
// testdata/fuzz/FuzzWARC.
func FuzzWARC(f *testing.F) {
	f.Add([]byte("WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 999999999\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.warc")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := OpenWARC(path)
		if err != nil {
			return
		}
		defer src.Close()
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatalf("more records (%d) than bytes (%d)", n, len(data))
			}
			item, err := src.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if err.Error() == "" {
					t.Fatal("an error without a message")
				}
				return
			}
			_, err = item.Document()
			var re *RecordError
			if err != nil && !errors.Is(err, ErrSkip) && !errors.As(err, &re) {
				t.Logf("record %s: %v", item.Where, err)
			}
		}
	})
}
