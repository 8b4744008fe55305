package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// minorVersion returns the major and minor version of a "vX.Y.Z" string.
func minorVersion(v string) (major, minor int, err error) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("version %q is not vX.Y[.Z]", v)
	}
	if major, err = strconv.Atoi(parts[0]); err == nil {
		minor, err = strconv.Atoi(parts[1])
	}
	return major, minor, err
}

// TestQdrantImageMatchesClient: Qdrant's Go client checks the server's
// version when it connects and warns, on every connection, when the major
// versions differ or the minor ones are more than one apart
// (go-client's IsCompatible, compare_versions.go). Every Qdrant image the
// compose files start stays within that distance of the client go.mod
// pins.
func TestQdrantImageMatchesClient(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github\.com/qdrant/go-client (v\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod names no github.com/qdrant/go-client")
	}
	cMajor, cMinor, err := minorVersion(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deployments {
		p, err := load(t, "..", d.files, d.profiles, composeEnv)
		if err != nil {
			t.Fatalf("load %v: %v", d.files, err)
		}
		for name, s := range p.Services {
			image, tag, _ := strings.Cut(s.Image, ":")
			if image != "qdrant/qdrant" {
				continue
			}
			major, minor, err := minorVersion(tag)
			if err != nil {
				t.Errorf("service %s: %v", name, err)
				continue
			}
			if major != cMajor || minor < cMinor-1 || minor > cMinor+1 {
				t.Errorf("service %s runs %s, and go.mod's client is %s: more than one minor version apart, the client warns at every connection", name, s.Image, m[1])
			}
		}
	}
}
