package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"},
	}}
	want := "version v1.2.3\ncommit  abc123 (with uncommitted changes)\ngo      go1.99\n"
	if got := fromBuildInfo(bi).String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	bi.Settings = nil
	if got := fromBuildInfo(bi).String(); got != "version v1.2.3\ncommit  unknown (built without version control information)\ngo      go1.99\n" {
		t.Errorf("without VCS information:\n%s", got)
	}
	if got := Read().GoVersion; got != runtime.Version() {
		t.Errorf("Read: Go version %q, want %q", got, runtime.Version())
	}
}
