package hnsw

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cari-search/cari/store/local/hnsw/vectorset"
)

// TestHNSWStagedBatchEqualsPuts: a batch staged and published builds the
// graph that the same puts one by one build (what lets the vector log,
// replayed put by put, stand for the batches written), replacements
// included; the batch is invisible until published.
func TestHNSWStagedBatchEqualsPuts(t *testing.T) {
	vecs := vectorset.Clustered(1200, 8, 5)
	one, batched := testHNSW(8), testHNSW(8)
	one.p.ExactBelow, batched.p.ExactBelow = -1, -1
	for round := range 3 {
		var recs []Doc
		for i := range 300 {
			// Each round replaces a third of the documents the round before
			// added.
			id := strconv.Itoa(round) + "-" + strconv.Itoa(i)
			if round > 0 && i%3 == 0 {
				id = strconv.Itoa(round-1) + "-" + strconv.Itoa(i+1)
			}
			v := vecs[round*400+i]
			recs = append(recs, Doc{ID: id, Vectors: [][]float32{v, vecs[round*400+300+i%100]}})
		}
		for _, r := range recs {
			if err := one.Put(r.ID, r.Vectors); err != nil {
				t.Fatal(err)
			}
		}
		live := batched.live
		st, err := batched.Stage(recs)
		if err != nil {
			t.Fatal(err)
		}
		if batched.live != live {
			t.Errorf("round %d: %d live passages while staged, want the %d before", round, batched.live, live)
		}
		// A document the batch adds is not found, even by its own vector.
		for _, h := range mustSearchIndex(t, batched, vecs[round*400+1], 5, nil) {
			if strings.HasPrefix(h.ID, strconv.Itoa(round)+"-") {
				t.Errorf("round %d: %q found while staged: %+v", round, h.ID, h)
			}
		}
		if round > 0 {
			hits := mustSearchIndex(t, batched, vecs[(round-1)*400+1], 5, nil)
			if len(hits) == 0 || hits[0].ID != strconv.Itoa(round-1)+"-1" || hits[0].Score < 0.999 {
				t.Errorf("round %d: while staged, the replaced document's old passage is not found first: %v", round, hits)
			}
		}
		batched.Publish(st)
	}
	if !sameGraph(one, batched) || !slices.Equal(one.state, batched.state) || one.live != batched.live ||
		one.liveDocs != batched.liveDocs || one.records != batched.records {
		t.Fatal("the staged batches built another index than the puts one by one")
	}
}

// TestHNSWStageAbort: an aborted batch leaves the documents as they were.
func TestHNSWStageAbort(t *testing.T) {
	vecs := vectorset.Clustered(300, 8, 6)
	x := testHNSW(8)
	x.p.ExactBelow = -1
	for i := range 200 {
		if err := x.Put(strconv.Itoa(i), [][]float32{vecs[i]}); err != nil {
			t.Fatal(err)
		}
	}
	live, liveDocs, records := x.live, x.liveDocs, x.records
	// Replace document 0 and add document "new" with the vectors of 200 and 201.
	st, err := x.Stage([]Doc{
		{ID: "0", Vectors: [][]float32{vecs[200]}},
		{ID: "new", Vectors: [][]float32{vecs[201]}},
	})
	if err != nil {
		t.Fatal(err)
	}
	x.Abort(st)
	if x.live != live || x.liveDocs != liveDocs || x.records != records {
		t.Errorf("after abort: live %d, documents %d, records %d; want %d, %d, %d", x.live, x.liveDocs, x.records, live, liveDocs, records)
	}
	if _, ok := x.docNums["new"]; ok {
		t.Error("the aborted new document is still known")
	}
	if hits := mustSearchIndex(t, x, vecs[0], 1, nil); len(hits) != 1 || hits[0].ID != "0" || hits[0].Score < 0.999 {
		t.Errorf("document 0's own passage after the aborted replacement: %v", hits)
	}
	for _, q := range [][]float32{vecs[200], vecs[201]} {
		for _, h := range mustSearchIndex(t, x, q, 10, nil) {
			if h.ID == "new" || h.ID == "0" && h.Score > 0.9999 && !slices.Equal(q, vecs[0]) {
				t.Errorf("an aborted passage is found: %+v", h)
			}
		}
	}
	// The writer lock was released: another put goes through.
	if err := x.Put("after", [][]float32{vecs[202]}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Stage([]Doc{{ID: "bad", Vectors: [][]float32{{1, 2}}}}); err == nil {
		t.Error("a passage of 2 dimensions was staged into an 8-dimensional index")
	}
}

// putOneByOne is put with every passage searched for and linked after the
// one before is in, none searched ahead: the reference insertion order.
func putOneByOne(t *testing.T, x *Index, id string, vecs [][]float32) {
	t.Helper()
	st, err := x.Stage(nil)
	if err != nil {
		t.Fatal(err)
	}
	x.records++
	d, known := x.docNums[id]
	if !known {
		d = int32(len(x.docIDs))
		x.docIDs = append(x.docIDs, id)
		x.docNodes = append(x.docNodes, nil)
		x.docNums[id] = d
	}
	for _, n := range x.docNodes[d] {
		x.state[n] = nodeRetiring
	}
	added := make([]int32, len(vecs))
	for i, v := range vecs {
		added[i] = x.insert(d, int32(i), v)
	}
	st.docs = append(st.docs, stagedDoc{id: id, d: d, known: known, added: added})
	x.Publish(st)
}

// TestHNSWSearchAheadEqualsOneByOne: stage searches for the next passage's
// links while it links the current one, and keeps that search only if it
// is the one the passage would have run after: the graph equals the one
// built passage after passage, replacements and several passages per
// document included, while most searches run ahead are kept.
func TestHNSWSearchAheadEqualsOneByOne(t *testing.T) {
	vecs := vectorset.Clustered(3000, 8, 8)
	ref, got := testHNSW(8), testHNSW(8)
	for round := range 3 {
		var recs []Doc
		for i := range 600 {
			id := strconv.Itoa(round) + "-" + strconv.Itoa(i)
			if round > 0 && i%4 == 0 {
				id = strconv.Itoa(round-1) + "-" + strconv.Itoa(i+1)
			}
			k := round*1000 + i
			pass := [][]float32{vecs[k]}
			if i%3 == 0 {
				pass = append(pass, vecs[(k+600)%3000], vecs[(k+601)%3000])
			}
			if i%50 == 7 {
				pass = nil // a document with no passages in between
			}
			recs = append(recs, Doc{ID: id, Vectors: pass})
		}
		for _, r := range recs {
			putOneByOne(t, ref, r.ID, r.Vectors)
		}
		for start := 0; start < len(recs); start += 128 {
			st, err := got.Stage(recs[start:min(start+128, len(recs))])
			if err != nil {
				t.Fatal(err)
			}
			got.Publish(st)
		}
	}
	if !sameGraph(ref, got) || !slices.Equal(ref.state, got.state) || ref.live != got.live || ref.liveDocs != got.liveDocs {
		t.Fatal("searching ahead built another graph than inserting passage after passage")
	}
	if ref.aheadRun != 0 || got.aheadRun == 0 || got.aheadKept < got.aheadRun/2 {
		t.Errorf("searches run ahead: %d in the reference, %d (%d kept) staged; want none, and most kept", ref.aheadRun, got.aheadRun, got.aheadKept)
	}
	t.Logf("%d searches run ahead, %d kept", got.aheadRun, got.aheadKept)
}

// TestHNSWSearchAheadNotIntoReplaced: stage does not search ahead for a
// document that replaces one, whose old passages it must not link to but
// that are linkable until its turn comes: a batch of a new document then a
// replacement carrying its old passage's own vector builds the graph of
// putting them one after the other.
func TestHNSWSearchAheadNotIntoReplaced(t *testing.T) {
	vecs := vectorset.Clustered(202, 8, 9)
	ref, got := testHNSW(8), testHNSW(8)
	for _, x := range []*Index{ref, got} {
		for i := range 200 {
			putOneByOne(t, x, strconv.Itoa(i), [][]float32{vecs[i]})
		}
	}
	recs := []Doc{
		{ID: "new", Vectors: [][]float32{vecs[200]}},
		{ID: "7", Vectors: [][]float32{vecs[7]}}, // unchanged: its old passage is its nearest
	}
	for _, r := range recs {
		putOneByOne(t, ref, r.ID, r.Vectors)
	}
	st, err := got.Stage(recs)
	if err != nil {
		t.Fatal(err)
	}
	got.Publish(st)
	if !sameGraph(ref, got) || !slices.Equal(ref.state, got.state) {
		t.Fatal("the replacement searched ahead of its old passage's retirement: another graph than one put after the other")
	}
}
