package store

// DocText is a stored document's ID, title and text.
type DocText struct {
	ID, Title, Text string
	// Elsewhere marks a document analysed in another field: it matches
	// nothing in this one (its title still counts in the average title
	// length, as on the local store).
	Elsewhere bool
}

// MatchFeatures computes the MatchFeatures of docs for query the way the
// local store does from its postings, here from the documents' titles and
// texts analysed in field, for a store that keeps no positions (the Qdrant
// store). idf gives each distinct query term's IDF; avgdl is the field's
// average analysed length.
func (a *Analysis) MatchFeatures(field, query string, docs []DocText, idf func(term string) float64, bm BM25, avgdl float64) map[string]MatchFeatures {
	q := a.FeatureQuery(field, query, bm)
	for i, t := range q.Terms {
		q.IDFs[i] = idf(string(t.Text))
	}
	fds := make([]*FeatureDoc, len(docs))
	for i, d := range docs {
		fds[i] = a.featureDoc(q, d, avgdl)
	}
	return q.Features(fds)
}

// featureDoc collects a document's matches of q's terms from its text, as
// the local store collects them from its postings.
func (a *Analysis) featureDoc(q *FeatureQuery, d DocText, avgdl float64) *FeatureDoc {
	c := &FeatureDoc{ID: d.ID, Title: d.Title, TitleBytes: len(d.Title)}
	if d.Elsewhere {
		return c
	}
	tokens := a.Tokens(q.field, Body(d.Title, d.Text))
	for ti, t := range q.Terms {
		m := TermMatch{Term: ti}
		for _, tok := range tokens {
			if tok.Term == string(t.Text) {
				m.Positions = append(m.Positions, tok.Position)
				if tok.Start < c.TitleBytes {
					m.InTitle = true
					m.TitleFreq++
				}
			}
		}
		if len(m.Positions) == 0 {
			continue
		}
		// The local store learns the length from the postings of a
		// matching term, so a document that matches nothing has none.
		c.Length = float64(len(tokens))
		c.Matches = append(c.Matches, m)
		c.BM25 += float64(t.Count) * q.BM25.TermScore(q.IDFs[ti], float64(len(m.Positions)), c.Length, avgdl)
	}
	return c
}
