package rerank

import (
	"strings"
	"testing"
	"time"
)

func TestNewKinds(t *testing.T) {
	for _, kind := range []string{"", KindNone} {
		rr, err := New(Config{Kind: kind})
		if rr != nil || err != nil {
			t.Errorf("New(%q) = %v, %v; want no re-ranker", kind, rr, err)
		}
	}
	rr, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rr.(*Learned); !ok {
		t.Errorf("the default re-ranker is %T, want *Learned", rr)
	}
	if _, err := New(Config{Kind: "bogus"}); err == nil || !strings.Contains(err.Error(), "--reranker must be") {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := New(Config{Kind: KindONNX}); err == nil || !strings.Contains(err.Error(), "needs --reranker-model") {
		t.Errorf("onnx without a model: %v", err)
	}
}

func TestConfigDeadline(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{Kind: KindChat}, 0},
		{Config{Kind: KindListwise}, ListwiseTimeout},
		{Config{Kind: KindListwise, Timeout: time.Second}, time.Second},
		{Config{Kind: KindChat, Timeout: 3 * time.Second}, 3 * time.Second},
	} {
		if got := c.cfg.Deadline(); got != c.want {
			t.Errorf("%+v.Deadline() = %v, want %v", c.cfg, got, c.want)
		}
	}
}
