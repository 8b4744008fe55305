//go:build cgo

package onnx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ONNX Runtime keeps one environment per process, so the library is
// loaded once, by the first Load, and stays loaded.
var (
	envMu      sync.Mutex
	envLibrary string
	envReady   bool
)

// initRuntime loads the library and creates the environment, once.
func initRuntime(library string) error {
	envMu.Lock()
	defer envMu.Unlock()
	if envReady {
		if library != envLibrary {
			return fmt.Errorf("ONNX Runtime is already loaded from %q; one process loads one library", envLibrary)
		}
		return nil
	}
	if library != "" {
		ort.SetSharedLibraryPath(library)
	} else {
		ort.SetSharedLibraryPath("libonnxruntime.so")
	}
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("load ONNX Runtime (%s): %w; run \"make models\" to fetch it, or set ONNXRUNTIME_LIB", orDefault(library), err)
	}
	envLibrary, envReady = library, true
	return nil
}

func orDefault(library string) string {
	if library == "" {
		return "libonnxruntime.so from the system"
	}
	return library
}

// RuntimeVersion loads ONNX Runtime from library (empty: the system's)
// and returns its version.
func RuntimeVersion(library string) (string, error) {
	if err := initRuntime(library); err != nil {
		return "", err
	}
	return ort.GetVersion(), nil
}

// Input roles, recognised by name as transformers exports name them.
const (
	roleIDs = iota
	roleMask
	roleTypes
	rolePositions
)

var inputRoles = map[string]int{
	"input_ids": roleIDs, "attention_mask": roleMask, "token_type_ids": roleTypes, "position_ids": rolePositions,
}

// session is one ONNX Runtime session with what run needs to feed it.
type session struct {
	s        *ort.DynamicAdvancedSession
	roles    []int
	int32In  []bool       // inputs declared int32 rather than int64
	pooled   bool         // the output is already [batch, dim]
	closeMu  sync.RWMutex // runs hold it shared, close exclusively
	isClosed bool
}

// newSession opens modelPath and works out its inputs, its output and the
// vector dimension.
func newSession(modelPath, library string, threads int) (*session, int, error) {
	if err := initRuntime(library); err != nil {
		return nil, 0, err
	}
	ins, outs, err := ort.GetInputOutputInfo(modelPath)
	if err != nil {
		return nil, 0, err
	}
	s := &session{}
	var inNames []string
	for _, in := range ins {
		role, ok := inputRoles[in.Name]
		if !ok {
			return nil, 0, fmt.Errorf("input %q: want input_ids, attention_mask, token_type_ids or position_ids", in.Name)
		}
		if in.DataType != ort.TensorElementDataTypeInt64 && in.DataType != ort.TensorElementDataTypeInt32 {
			return nil, 0, fmt.Errorf("input %q has element type %v, want int64 or int32", in.Name, in.DataType)
		}
		inNames = append(inNames, in.Name)
		s.roles = append(s.roles, role)
		s.int32In = append(s.int32In, in.DataType == ort.TensorElementDataTypeInt32)
	}
	if !slices.Contains(s.roles, roleIDs) {
		return nil, 0, errors.New("the model has no input_ids input")
	}
	out, err := pickOutput(outs)
	if err != nil {
		return nil, 0, err
	}
	s.pooled = len(out.Dimensions) == 2
	dim := int(out.Dimensions[len(out.Dimensions)-1])
	if dim <= 0 {
		return nil, 0, fmt.Errorf("output %q has no fixed last dimension (%v)", out.Name, out.Dimensions)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, 0, err
	}
	defer opts.Destroy()
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			return nil, 0, err
		}
	}
	if s.s, err = ort.NewDynamicAdvancedSession(modelPath, inNames, []string{out.Name}, opts); err != nil {
		return nil, 0, err
	}
	return s, dim, nil
}

// pickOutput prefers per-token states (pooled here, as configured) over
// a model's own pooled output.
func pickOutput(outs []ort.InputOutputInfo) (ort.InputOutputInfo, error) {
	for _, name := range []string{"last_hidden_state", "token_embeddings", "sentence_embedding"} {
		for _, o := range outs {
			if o.Name == name {
				return checkOutput(o)
			}
		}
	}
	if len(outs) == 0 {
		return ort.InputOutputInfo{}, errors.New("the model has no outputs")
	}
	return checkOutput(outs[0])
}

func checkOutput(o ort.InputOutputInfo) (ort.InputOutputInfo, error) {
	if o.DataType != ort.TensorElementDataTypeFloat || (len(o.Dimensions) != 3 && len(o.Dimensions) != 2) {
		return o, fmt.Errorf("output %q is %v %v; want float [batch, tokens, dim] or [batch, dim]", o.Name, o.DataType, o.Dimensions)
	}
	return o, nil
}

// run feeds a batch and returns the output values, row-major, and whether
// they are already pooled.
func (s *session) run(ctx context.Context, b *batch) ([]float32, bool, error) {
	inputs := make([]ort.Value, len(s.roles))
	defer func() {
		for _, v := range inputs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	shape := ort.NewShape(int64(b.rows), int64(b.cols))
	for i, role := range s.roles {
		v, err := newInput(shape, inputData(b, role), s.int32In[i])
		if err != nil {
			return nil, false, err
		}
		inputs[i] = v
	}
	opts, err := ort.NewRunOptions()
	if err != nil {
		return nil, false, err
	}
	terminated := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		opts.Terminate()
		close(terminated)
	})
	defer func() {
		// A cancellation that came first is still terminating opts in its
		// own goroutine: destroy them only after it returns.
		if !stop() {
			<-terminated
		}
		opts.Destroy()
	}()
	outputs := []ort.Value{nil}
	s.closeMu.RLock()
	if s.isClosed {
		s.closeMu.RUnlock()
		return nil, false, errors.New("onnx model is closed")
	}
	err = s.s.RunWithOptions(inputs, outputs, opts)
	s.closeMu.RUnlock()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	if outputs[0] != nil {
		defer outputs[0].Destroy()
	}
	if err != nil {
		return nil, false, fmt.Errorf("run onnx model: %w", err)
	}
	t, ok := outputs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, false, fmt.Errorf("output is %T, want a float tensor", outputs[0])
	}
	return slices.Clone(t.GetData()), s.pooled, nil
}

// inputData returns the values of one input role.
func inputData(b *batch, role int) []int64 {
	switch role {
	case roleMask:
		return b.mask
	case roleTypes:
		return b.types
	case rolePositions:
		pos := make([]int64, len(b.ids))
		for i := range pos {
			pos[i] = int64(i % b.cols)
		}
		return pos
	}
	return b.ids
}

func newInput(shape ort.Shape, data []int64, as32 bool) (ort.Value, error) {
	if !as32 {
		return ort.NewTensor(shape, data)
	}
	d32 := make([]int32, len(data))
	for i, v := range data {
		d32[i] = int32(v)
	}
	return ort.NewTensor(shape, d32)
}

// close ends the session; runs in flight finish first.
func (s *session) close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.isClosed {
		return nil
	}
	s.isClosed = true
	return s.s.Destroy()
}
