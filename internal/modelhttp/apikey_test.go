package modelhttp

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadAPIKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte("  file-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CARI_TEST_KEY", " env-key ")
	for _, tc := range []struct{ file, env, want string }{
		{file, "CARI_TEST_KEY", "file-key"},
		{"", "CARI_TEST_KEY", "env-key"},
		{"", "CARI_UNSET_KEY_VARIABLE", ""},
	} {
		if got, err := LoadAPIKey(tc.file, tc.env); err != nil || got != tc.want {
			t.Errorf("LoadAPIKey(%q, %q) = %q, %v; want %q", tc.file, tc.env, got, err, tc.want)
		}
	}
	if _, err := LoadAPIKey(filepath.Join(dir, "absent"), "CARI_TEST_KEY"); !os.IsNotExist(err) {
		t.Errorf("a missing key file gives %v, want the file's error", err)
	}
}
