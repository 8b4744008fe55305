// Package buildinfo says which build of Cari is running: its version,
// the commit it was built from and the Go release that built it, from
// what the Go toolchain records in every binary (debug.ReadBuildInfo).
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info describes a build.
type Info struct {
	// Version is the module's version: a release tag for go install
	// module@version, "(devel)" for a build from a checkout.
	Version string
	// Commit is the VCS revision of a build from a checkout ("" when the
	// toolchain recorded none, as with go run or -buildvcs=false);
	// Modified says the checkout had uncommitted changes.
	Commit   string
	Modified bool
	// GoVersion is the Go release that built the binary.
	GoVersion string
}

// Read reads the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the build as "cari version" prints it, one fact a line.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version %s\n", i.Version)
	switch {
	case i.Commit == "":
		b.WriteString("commit  unknown (built without version control information)\n")
	case i.Modified:
		fmt.Fprintf(&b, "commit  %s (with uncommitted changes)\n", i.Commit)
	default:
		fmt.Fprintf(&b, "commit  %s\n", i.Commit)
	}
	fmt.Fprintf(&b, "go      %s\n", i.GoVersion)
	return b.String()
}
