package vectorset

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func testSet() *Set {
	return &Set{Dim: 2, K: 2,
		Base:     []float32{1, 0, 0, 1, 0.6, 0.8},
		Queries:  []float32{0.8, 0.6},
		TrueIDs:  []int32{2, 0},
		TrueSims: []float32{0.96, 0.8},
	}
}

// TestWriteLayout pins the byte layout that scripts/ann_faiss_bench.py and
// scripts/bench_peers.py read.
func TestWriteLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := testSet().Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := []byte("CARIANN1")
	le := binary.LittleEndian
	for _, v := range []uint32{3, 1, 2, 2} {
		want = le.AppendUint32(want, v)
	}
	for _, f := range []float32{1, 0, 0, 1, 0.6, 0.8, 0.8, 0.6} {
		want = le.AppendUint32(want, math.Float32bits(f))
	}
	want = le.AppendUint32(want, 2)
	want = le.AppendUint32(want, 0)
	for _, f := range []float32{0.96, 0.8} {
		want = le.AppendUint32(want, math.Float32bits(f))
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("written\n%x\nwant\n%x", buf.Bytes(), want)
	}
}

func TestFileRoundTripAndDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "set.ann")
	s := testSet()
	if err := WriteFile(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) || got.Len() != 3 || got.NumQueries() != 1 {
		t.Fatalf("read back %+v, wrote %+v", got, s)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 5, headerSize, len(good) - 1} {
		if err := os.WriteFile(path, good[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadFile(path); err == nil {
			t.Errorf("a file cut to %d of %d bytes was read", cut, len(good))
		}
	}
	bad := bytes.Clone(good)
	bad[len(Magic)] = 0xff // a base of 255 vectors that the file does not hold
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil {
		t.Error("a file shorter than its header says was read")
	}
	if err := (&Set{Dim: 2, K: 3, Queries: []float32{1, 0}}).Write(&bytes.Buffer{}); err == nil {
		t.Error("a set without its true answers was written")
	}
}
