package embeddings

import (
	"strings"
	"testing"
)

func TestWriteModelTable(t *testing.T) {
	var b strings.Builder
	if err := WriteModelTable(&b, "models", nil); err != nil || !strings.Contains(b.String(), `no models in models; run "make models"`) {
		t.Errorf("no models: %q, %v", b.String(), err)
	}
	b.Reset()
	entries := []ModelEntry{{Name: "glove-6b-100d.cvec", Provider: "static", Format: "cvec", Path: "models/glove-6b-100d.cvec", Bytes: 40 << 20}}
	want := "NAME                PROVIDER  FORMAT  SIZE      PATH\nglove-6b-100d.cvec  static    cvec    40.0 MiB  models/glove-6b-100d.cvec\n"
	if err := WriteModelTable(&b, "models", entries); err != nil || b.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestDescriptionWrite(t *testing.T) {
	d := Description{ID: "static/m@v", Provider: "static", Name: "m", Version: "v", Dim: 4, QueryPrompt: "query: "}
	var text, js strings.Builder
	d.WriteText(&text)
	if !strings.Contains(text.String(), "dimensions       4\n") || !strings.Contains(text.String(), `query prompt     "query: "`) {
		t.Errorf("text:\n%s", text.String())
	}
	d.WriteJSON(&js)
	if want := `{"dim":4,"document_prompt":"","id":"static/m@v","name":"m","provider":"static","query_prompt":"query: ","version":"v"}` + "\n"; js.String() != want {
		t.Errorf("JSON %s, want %s", js.String(), want)
	}
}
