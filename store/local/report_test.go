package local

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestReportWrite(t *testing.T) {
	r := Report{Generation: "g1", Documents: 3, Passages: 5, Segments: 2}
	var b bytes.Buffer
	r.WriteText(&b)
	if want := "generation g1: 3 documents, 5 passages; vectors for 0 documents, 0 passages; 2 keyword segments checked\nok\n"; b.String() != want {
		t.Errorf("text report %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["Problems"] == nil || back["Generation"] != "g1" {
		t.Errorf("JSON report %s (%v): want Problems as an empty list", b.String(), err)
	}
	r.add("segments/1.zap", "checksum %x does not match", 7)
	b.Reset()
	r.WriteText(&b)
	if !strings.Contains(b.String(), "problem: ") || strings.HasSuffix(b.String(), "ok\n") {
		t.Errorf("text report of a damaged generation:\n%s", b.String())
	}
}
