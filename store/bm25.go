package store

import (
	"fmt"
	"math"
)

// BM25 holds the parameters of Okapi BM25 as Lucene and Anserini compute it.
// Both stores score with it (the local store from its own postings, the
// Qdrant store in the weights of its sparse vectors), so that one query
// ranks alike on either.
//
// Cari scores the postings that bleve stores itself instead of using bleve's
// "bm25" model: bleve 2.6 takes the average field length from the number of
// distinct terms in the field divided by the document count (about 7 on
// SciFact, where documents average 150 tokens), scores sqrt(tf), squares the
// IDF through its query norm and multiplies by a coordination factor. On
// scifact/train that costs 0.022 nDCG@10 (0.679 against 0.701 here); see
// docs/EVALUATION.md.
type BM25 struct {
	// K1 sets how fast term frequency saturates. Default 1.2.
	K1 float64
	// B sets how strongly long documents are normalized, 0 to 1. Default 0.75.
	B float64
}

// DefaultBM25 holds the parameters chosen on scifact/train (a grid of
// k1 0.7-1.8 and b 0.5-1.0 peaked at the textbook values).
var DefaultBM25 = BM25{K1: 1.2, B: 0.75}

// DefaultIndonesianBM25 holds the parameters of the Indonesian body field,
// which Options.IndonesianBM25 may set apart from every other field's, as
// Lucene's per-field similarity does. On the Indonesian development set
// (tydiqa-id/train, TestIndonesianBM25OnDev, grid k1 0.6-2.0 and b 0.3-1.0)
// no pair beat DefaultBM25 by more than one paired standard error, so the
// field keeps DefaultBM25's values (docs/EVALUATION.md).
var DefaultIndonesianBM25 = BM25{K1: 1.2, B: 0.75}

// ResolveBM25 is the BM25 of a store's options: a zero global takes
// DefaultBM25 and a zero indonesian DefaultIndonesianBM25, and both are
// checked, the error naming the Indonesian field's. Every store's Open
// calls it, so that an unset option scores alike on each.
func ResolveBM25(global, indonesian BM25) (BM25, BM25, error) {
	if global == (BM25{}) {
		global = DefaultBM25
	}
	if err := global.Validate(); err != nil {
		return global, indonesian, err
	}
	if indonesian == (BM25{}) {
		indonesian = DefaultIndonesianBM25
	}
	if err := indonesian.Validate(); err != nil {
		return global, indonesian, fmt.Errorf("bm25 of the Indonesian field: %w", err)
	}
	return global, indonesian, nil
}

// FieldBM25 returns the BM25 parameters of body field: indonesian for the
// Indonesian field, global for every other.
func FieldBM25(field string, global, indonesian BM25) BM25 {
	if field == FieldBodyID {
		return indonesian
	}
	return global
}

// Validate reports parameters outside BM25's meaningful range.
func (p BM25) Validate() error {
	if !(p.K1 >= 0) || math.IsInf(p.K1, 0) {
		return fmt.Errorf("bm25 k1 must be a finite number >= 0, got %v", p.K1)
	}
	if !(p.B >= 0 && p.B <= 1) {
		return fmt.Errorf("bm25 b must be between 0 and 1, got %v", p.B)
	}
	return nil
}

// IDF is the inverse document frequency of a term found in df of n
// documents, in Lucene's always-positive form.
func (p BM25) IDF(n, df float64) float64 {
	return math.Log(1 + (n-df+0.5)/(df+0.5))
}

// TermScore is one term's contribution to a document's score: tf
// occurrences in a field of length dl, where fields average avgdl.
func (p BM25) TermScore(idf, tf, dl, avgdl float64) float64 {
	norm := 1.0
	if avgdl > 0 {
		norm = 1 - p.B + p.B*dl/avgdl
	}
	return idf * tf * (p.K1 + 1) / (tf + p.K1*norm)
}
