package reindex

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cari-search/cari/store"
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

// rollbackNote says what the generation before, which the job that built
// now replaced, is kept for: a rollback to it, unless it was built with
// another analyzer or embedding model than now, which this build cannot
// serve. gens are the store's generations; without both, the plain note.
func rollbackNote(gens []store.Generation, before, now string) string {
	kept := fmt.Sprintf("%s is kept for cari reindex --rollback", before)
	at := func(name string) int {
		return slices.IndexFunc(gens, func(g store.Generation) bool { return g.Name == name })
	}
	i, j := at(before), at(now)
	if i < 0 || j < 0 {
		return kept
	}
	differs := gens[i].Incompatible(gens[j])
	if len(differs) == 0 {
		return kept
	}
	return fmt.Sprintf("%s is kept, but was built with another %s, which this build does not serve: a rollback to it needs the build that made it (cari gc removes it)",
		before, strings.Join(differs, " and "))
}

// WriteGenerations writes gens as cari gc lists them, a line each: name,
// state, creation time, size, embedding model and source.
func WriteGenerations(w io.Writer, gens []store.Generation) error {
	for _, g := range gens {
		source := ""
		if g.Source != "" {
			source = "  source " + g.Source
		}
		if _, err := fmt.Fprintf(w, "%-28s %-8s created %s  %7.1f MiB  vectors %s%s\n", g.Name, g.State,
			g.Created.Format(time.RFC3339), float64(g.SizeBytes)/(1<<20), g.Vectors, source); err != nil {
			return err
		}
	}
	return nil
}

// WriteSummary writes what a finished job did, as cari reindex prints it:
// its source (Source.Describe) and counts, whether it resumed an
// unfinished build, and that its generation serves now in place of
// before, with RollbackNote on what before is kept for.
func (p Progress) WriteSummary(w io.Writer, source, before string, gens []store.Generation) error {
	resumed := ""
	if p.Resumed {
		resumed = fmt.Sprintf("resumed an unfinished build after its first %d records\n", p.Start)
	}
	_, err := fmt.Fprintf(w, "reindexed %s into generation %s: %d source records; this run indexed %d documents, skipped %d, failed %d%s in %.1fs (%.0f records/s)\n%sgeneration %s serves now; %s\n",
		source, p.Generation, p.Done, p.Indexed, p.Skipped, p.Failed, p.FailureReasons(), p.Elapsed.Seconds(), p.Rate, resumed, p.Generation, rollbackNote(gens, before, p.Generation))
	return err
}
