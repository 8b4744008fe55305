package reindex

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// TotalString is Total for a reader: "unknown" while the source has not
// been counted.
func (p Progress) TotalString() string {
	if p.Total < 0 {
		return "unknown"
	}
	return fmt.Sprint(p.Total)
}

// FailureReasons is Errors for a reader, " (reason n, ...)" sorted by
// reason, or "" when nothing failed.
func (p Progress) FailureReasons() string {
	if len(p.Errors) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(p.Errors)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, p.Errors[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// LogAttrs are the progress of the indexing phase as slog attributes, for
// a log line.
func (p Progress) LogAttrs() []any {
	args := []any{"generation", p.Generation, "done", p.Done, "total", p.TotalString(),
		"indexed", p.Indexed, "failed", p.Failed, "per_second", fmt.Sprintf("%.0f", p.Rate)}
	if p.ETA > 0 {
		args = append(args, "eta", p.ETA.Round(time.Second).String())
	}
	return args
}
