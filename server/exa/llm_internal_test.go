package exa

import (
	"fmt"
	"strings"
	"testing"
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
	if s := fmt.Sprintf("%v", AnswerOptions{APIKey: "sk-secret"}); strings.Contains(s, "sk-secret") {
		t.Errorf("options print the API key: %s", s)
	}
}
