//go:build !cgo

package onnx

import (
	"context"
	"errors"
)

// errNoCgo explains why this build cannot run ONNX models.
var errNoCgo = errors.New("this cari was built without cgo, which ONNX Runtime needs: rebuild with CGO_ENABLED=1 and a C compiler")

type session struct{ pooled bool }

func newSession(string, string, int) (*session, int, error) { return nil, 0, errNoCgo }

func (*session) run(context.Context, *batch) ([]float32, bool, error) { return nil, false, errNoCgo }

func (*session) close() error { return nil }

// RuntimeVersion reports that this build has no ONNX Runtime.
func RuntimeVersion(string) (string, error) { return "", errNoCgo }
