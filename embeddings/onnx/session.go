package onnx

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// This file opens the session code to other transformer graphs that read
// token ids, such as the cross-encoders of searcher/rerank: they tokenize
// their own way and share the runtime, the input wiring and cancellation.

// Batch is rows of token ids, right-padded to the longest, ready for a
// Session.
type Batch struct{ b *batch }

// NewBatch pads rows of token ids with padID. typeIDs holds each row's
// token type ids (segment ids); nil or short rows read as 0.
func NewBatch(ids, typeIDs [][]int, padID int64) *Batch {
	return &Batch{padBatch(ids, typeIDs, padID)}
}

// Session is an ONNX Runtime session of a graph whose inputs are some of
// input_ids, attention_mask, token_type_ids and position_ids (those it
// declares are fed) and whose output is float [batch, width] or
// [batch, tokens, width].
type Session struct {
	s     *session
	width int
}

// SessionOptions configure OpenSession: Library as in Options (the
// process loads one library), Threads caps intra-op threads.
type SessionOptions struct {
	Library string
	Threads int
}

// OpenSession opens the network at modelPath.
func OpenSession(modelPath string, opts SessionOptions) (*Session, error) {
	s, width, err := newSession(modelPath, opts.Library, opts.Threads)
	if err != nil {
		return nil, err
	}
	return &Session{s: s, width: width}, nil
}

// Width is the output's last dimension.
func (s *Session) Width() int { return s.width }

// PerToken reports whether the output has a value per token
// ([batch, tokens, width]) rather than per row ([batch, width]).
func (s *Session) PerToken() bool { return !s.s.pooled }

// Run feeds b and returns the output, row-major. Cancelling ctx
// interrupts ONNX Runtime mid-run.
func (s *Session) Run(ctx context.Context, b *Batch) ([]float32, error) {
	out, _, err := s.s.run(ctx, b.b)
	return out, err
}

// Close ends the session; runs in flight finish first.
func (s *Session) Close() error { return s.s.close() }

// RuntimeLibrary is where Cari looks for libonnxruntime.so when none is
// configured: the ONNXRUNTIME_LIB environment variable, then the library
// "make models" unpacks into modelsDir, else "" for the system's dynamic
// linker to find.
func RuntimeLibrary(modelsDir string) string {
	if env := os.Getenv("ONNXRUNTIME_LIB"); env != "" {
		return env
	}
	p := filepath.Join(modelsDir, "onnxruntime", "libonnxruntime.so.1")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// String names the session's shape, for errors.
func (s *Session) String() string {
	if s.PerToken() {
		return fmt.Sprintf("[batch, tokens, %d]", s.width)
	}
	return fmt.Sprintf("[batch, %d]", s.width)
}
