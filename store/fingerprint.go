package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// Fingerprint returns a hash of what a store keeps of an entry and derives
// its vectors from: every field of the document (ID, URL, title, text,
// author, published time, language, domain, content hash, category) and
// its passages' offsets. A store that already holds a document with the same fingerprint
// treats upserting it again as a no-op, so re-importing an unchanged corpus
// writes nothing, and the indexer skips embedding it (see Fingerprints).
//
// The crawl time is left out on purpose: it says when Cari last saw the
// content, not what the content is, and the indexer stamps it at import
// time, so counting it would make every re-import a change. An unchanged
// document keeps the crawl time it was first stored with. The vectors are
// left out too: a generation holds the vectors of one model, and the same
// model embeds the same passages alike.
func Fingerprint(e Entry) string {
	h := sha256.New()
	d := &e.Doc
	for _, s := range []string{d.ID, d.URL, d.Title, d.Text, d.Author, d.Language, d.Domain, d.ContentHash} {
		writeField(h, []byte(s))
	}
	var pub []byte
	if !d.Published.IsZero() {
		pub, _ = d.Published.UTC().MarshalBinary()
	}
	writeField(h, pub)
	offsets := make([]byte, 0, 16*len(e.Chunks))
	for _, c := range e.Chunks {
		offsets = binary.LittleEndian.AppendUint64(offsets, uint64(c.Start))
		offsets = binary.LittleEndian.AppendUint64(offsets, uint64(c.End))
	}
	writeField(h, offsets)
	// Last, and only when set, so that documents without a category keep
	// the fingerprints they were stored with.
	if d.Category != "" {
		writeField(h, []byte(d.Category))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// writeField writes b with its length in front, so that no two different
// documents hash the same bytes ("ab"+"c" and "a"+"bc").
func writeField(h hash.Hash, b []byte) {
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(b))))
	h.Write(b)
}
