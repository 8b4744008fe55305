package store

import "time"

// GenerationState is what a generation of an index is used for.
type GenerationState string

// The states a store's Generations reports.
const (
	GenerationServing  GenerationState = "serving"
	GenerationBuilding GenerationState = "building"
	// GenerationRetired: complete and kept, not serving; a rollback can
	// point the store back at it, garbage collection removes it.
	GenerationRetired GenerationState = "retired"
)

// Generation describes one generation of an index a store keeps: the
// serving one, one a reindex builds, and those a reindex replaced.
type Generation struct {
	Name    string
	State   GenerationState
	Created time.Time
	// Analyzer and Vectors are the analysis and the embedding model the
	// generation was built with; it serves only a process with the same.
	Analyzer string
	Vectors  VectorSpace
	// Source names what a reindex built it from; empty for a generation
	// that was written to directly.
	Source string
	// Documents and Chunks are counted now for the serving and building
	// generations; a retired one reports them as they were when it
	// stopped serving, where the store recorded them.
	Documents, Chunks int64
	// SizeBytes is the generation's size on disk, where the store knows it
	// (0 on a Qdrant store, which does not report it).
	SizeBytes int64
}

// Incompatible names what g was built with that differs from other's
// build ("analyzer", "embedding model"): a process that serves other
// cannot serve g for each of them, so a rollback from other to g needs
// the build that made g. Empty when either could serve the other.
func (g Generation) Incompatible(other Generation) []string {
	var differs []string
	if g.Analyzer != other.Analyzer {
		differs = append(differs, "analyzer")
	}
	if g.Vectors != other.Vectors {
		differs = append(differs, "embedding model")
	}
	return differs
}
