package exa

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/searcher/rerank"
)

func TestNewLLMAnswerer(t *testing.T) {
	if a, err := newLLMAnswerer(AnswerOptions{}, nil); a != nil || err != nil {
		t.Errorf("no URL: %v, %v; want no answerer and no error", a, err)
	}
	for _, o := range []AnswerOptions{{URL: "127.0.0.1:8002/v1", Model: "m"}, {URL: "http://127.0.0.1:8002/v1"}} {
		if _, err := newLLMAnswerer(o, nil); err == nil {
			t.Errorf("%+v: want an error", o)
		}
	}
	a, err := newLLMAnswerer(AnswerOptions{URL: "http://h/v1/", Model: "m"}, nil)
	if err != nil || a.client.URL(chatPath) != "http://h/v1/chat/completions" || a.opts.Timeout != DefaultAnswerTimeout || a.opts.MaxTokens != DefaultAnswerMaxTokens {
		t.Errorf("defaults: %+v, %v", a, err)
	}
	t.Setenv(DefaultAnswerAPIKeyEnv, "from-env")
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(" from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o    AnswerOptions
		want rerank.Secret
	}{
		{AnswerOptions{APIKey: "given", APIKeyFile: file}, "given"},
		{AnswerOptions{APIKeyFile: file}, "from-file"},
		{AnswerOptions{}, "from-env"},
	} {
		tc.o.URL, tc.o.Model = "http://h/v1", "m"
		if a, err := newLLMAnswerer(tc.o, nil); err != nil || a.opts.APIKey != tc.want {
			t.Errorf("%+v: key %v, %v; want %q", tc.o, a, err, tc.want)
		}
	}
	if _, err := newLLMAnswerer(AnswerOptions{URL: "http://h/v1", Model: "m", APIKeyFile: file + ".missing"}, nil); err == nil || !strings.Contains(err.Error(), "key.missing") {
		t.Errorf("missing key file: %v, want an error naming it", err)
	}
	if s := fmt.Sprintf("%v", AnswerOptions{APIKey: "sk-secret"}); strings.Contains(s, "sk-secret") {
		t.Errorf("options print the API key: %s", s)
	}
}
