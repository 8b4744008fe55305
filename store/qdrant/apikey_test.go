package qdrant_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cari-search/cari/store/qdrant"
	"github.com/cari-search/cari/store/qdrant/qdranttest"
)

// TestAPIKeyFile: Open sends the key a file or $DefaultAPIKeyEnv holds, and
// a key file it cannot read is an error naming it.
func TestAPIKeyFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(qdrant.DefaultAPIKeyEnv, "from-env")
	for _, tc := range []struct {
		opts qdrant.Options
		key  string
	}{
		{qdrant.Options{APIKeyFile: file}, "from-file"},
		{qdrant.Options{}, "from-env"},
	} {
		_, addr := qdranttest.Start(t, tc.key)
		tc.opts.Addr = addr
		s, err := qdrant.Open(context.Background(), tc.opts)
		if err != nil {
			t.Fatalf("%+v: %v", tc.opts, err)
		}
		s.Close()
	}
	_, err := qdrant.Open(context.Background(), qdrant.Options{APIKeyFile: file + ".missing"})
	if err == nil || !strings.Contains(err.Error(), "key.missing") {
		t.Errorf("missing key file: %v, want an error naming it", err)
	}
}
