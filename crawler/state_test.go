package crawler

import (
	"errors"
	"testing"
)

func TestStateIsLocked(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := OpenState(dir); !errors.Is(err, ErrStateLocked) {
		t.Errorf("second OpenState: %v, want ErrStateLocked", err)
	}
}

func TestSeenMarkRoundTrip(t *testing.T) {
	for _, m := range []seenMark{{markQueued, 0}, {markDone, 3}, {markDepthSkipped, 300}} {
		if got := decodeSeen(m.encode()); got != m {
			t.Errorf("decodeSeen(encode(%v)) = %v", m, got)
		}
	}
}
