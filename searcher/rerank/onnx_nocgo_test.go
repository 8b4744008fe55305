//go:build !cgo

package rerank

import (
	"strings"
	"testing"
)

// TestONNXWithoutCgo checks that a build without cgo refuses the ONNX
// re-ranker with an error that says why, after checking the directory.
func TestONNXWithoutCgo(t *testing.T) {
	_, err := NewONNX(ONNXOptions{Dir: "testdata/tiny-bert-ce"})
	if err == nil || !strings.Contains(err.Error(), "cgo") {
		t.Errorf("error %v, want one about cgo", err)
	}
}
