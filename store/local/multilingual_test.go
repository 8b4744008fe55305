package local

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/store"
)

// cjkCorpus is a small corpus of Chinese and Japanese sentences, with an
// English and an Indonesian document beside them.
func cjkCorpus() []cari.Document {
	return []cari.Document{
		{ID: "zh-beijing", Text: "北京是中华人民共和国的首都，也是全国的政治和文化中心。"},
		{ID: "zh-university", Text: "北京大学位于北京市海淀区，是一所著名的综合性大学。"},
		{ID: "zh-shanghai", Text: "上海是中国最大的城市之一，也是重要的经济中心。"},
		{ID: "zh-history", Text: "这座城市有很长的历史，人们在这里生活了几千年。"},
		{ID: "ja-travel", Text: "私は去年北京へ旅行しました。天安門広場はとても広かったです。"},
		{ID: "ja-tokyo", Text: "東京は日本の首都であり、世界でも有数の大都市です。"},
		{ID: "ja-halfwidth", Text: "このｶﾀｶﾅの説明書はＧＰＳ受信機について書かれています。"},
		{ID: "en", Text: "Beijing is the capital of the People's Republic of China and its cultural centre."},
		{ID: "id", Text: "Jakarta adalah ibu kota Indonesia dan kota terbesar di negara itu."},
	}
}

// TestCJKSearch is the CJK acceptance case: a two-character Chinese word
// finds exactly the documents that contain it, Chinese or Japanese, and
// full-width and half-width forms of a word match each other.
func TestCJKSearch(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, cjkCorpus()...)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"北京", []string{"ja-travel", "zh-beijing", "zh-university"}},
		{"首都", []string{"ja-tokyo", "zh-beijing"}},
		{"城市", []string{"zh-history", "zh-shanghai"}},
		{"大学", []string{"zh-university"}},
		// Half-width katakana in the document, full-width in the query, and
		// the reverse; full-width Latin letters match ASCII.
		{"カタカナ", []string{"ja-halfwidth"}},
		{"ｶﾀｶﾅ", []string{"ja-halfwidth"}},
		{"gps", []string{"ja-halfwidth"}},
		{"ＧＰＳ", []string{"ja-halfwidth"}},
	} {
		got := sortedHitIDs(mustSearch(t, s, store.KeywordQuery{Text: tc.query, Limit: 10}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q found %v, want %v", tc.query, got, tc.want)
		}
	}
	// A longer Chinese query ranks the document with most of its bigrams
	// first.
	hits := mustSearch(t, s, store.KeywordQuery{Text: "北京大学在哪里", Limit: 10})
	if len(hits) == 0 || hits[0].ID != "zh-university" {
		t.Errorf("北京大学在哪里 ranked %v, want zh-university first", hitIDs(hits))
	}
}

// TestDetectedLanguageIsStoredAndFiltered: a document without a language
// gets the detected one, which the language filter then matches; a
// document that names its language keeps it.
func TestDetectedLanguageIsStoredAndFiltered(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, cjkCorpus()...)
	upsert(t, s, cari.Document{ID: "labelled", Text: "Jakarta adalah ibu kota Indonesia dan kota terbesar di negara itu.", Language: "ms-MY"})
	docs, err := s.Documents(context.Background(), []string{"zh-beijing", "ja-tokyo", "en", "id", "labelled"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"zh-beijing": "zh", "ja-tokyo": "ja", "en": "en", "id": "id", "labelled": "ms-MY"}
	for id, lang := range want {
		if got := docs[id].Language; got != lang {
			t.Errorf("document %s has language %q, want %q", id, got, lang)
		}
	}
	got := sortedHitIDs(mustSearch(t, s, store.KeywordQuery{Text: "北京", Filter: store.Filter{Languages: []string{"ja"}}, Limit: 10}))
	if !slices.Equal(got, []string{"ja-travel"}) {
		t.Errorf("北京 in Japanese documents found %v, want [ja-travel]", got)
	}
}

// TestIndonesianDocumentsAreStemmed: an Indonesian query finds an
// Indonesian document through the root both words share, and its stop
// words match nothing.
func TestIndonesianDocumentsAreStemmed(t *testing.T) {
	if indonesian.Dictionary == "" {
		t.Skip("no Indonesian root words installed (apt-get install hunspell-id)")
	}
	s := newStore(t, Options{})
	upsert(t, s,
		cari.Document{ID: "build", Text: "Pembangunan jembatan baru itu dimulai pada tahun lalu oleh pemerintah daerah."},
		cari.Document{ID: "read", Text: "Anak-anak sekolah itu senang membaca buku cerita di perpustakaan kota."},
		cari.Document{ID: "en", Text: "The new bridge was built by the regional government last year."},
	)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"siapa yang membangun jembatan", []string{"build"}}, // bangun: membangun = pembangunan
		{"bacaan untuk anak sekolah", []string{"read"}},      // baca: bacaan = membaca
		{"yang dan di itu", nil},                             // only stop words
	} {
		got := sortedHitIDs(mustSearch(t, s, store.KeywordQuery{Text: tc.query, Limit: 10}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q found %v, want %v", tc.query, got, tc.want)
		}
	}
}

// TestStatisticsPerLanguageField checks that each body field's statistics
// describe its own documents, and that replacing a document with one in
// another language and deleting it move them.
func TestStatisticsPerLanguageField(t *testing.T) {
	s := newStore(t, Options{})
	upsert(t, s, cjkCorpus()...)
	stats := func() corpusStats {
		r, release, err := s.snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		st, err := snapshotStats(r)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := stats()
	if st.Fields[store.FieldBodyCJK].Docs != 7 || st.Fields[store.FieldBody].Docs != 1 || st.Fields[store.FieldBodyID].Docs != 1 {
		t.Fatalf("fields after indexing: %+v, want 7 CJK, 1 English, 1 Indonesian", st.Fields)
	}
	var sum int64
	for _, f := range st.Fields {
		sum += f.Tokens
	}
	if sum != st.BodyTokens || st.Docs != 9 {
		t.Errorf("fields hold %d tokens, the collection %d (%d documents)", sum, st.BodyTokens, st.Docs)
	}
	// The English document becomes Indonesian.
	upsert(t, s, cari.Document{ID: "en", Text: "Bandung adalah ibu kota provinsi Jawa Barat yang terkenal dengan udaranya yang sejuk."})
	st = stats()
	if st.Fields[store.FieldBodyID].Docs != 2 || st.Fields[store.FieldBody].Docs != 0 {
		t.Errorf("after replacing the English document with an Indonesian one: %+v", st.Fields)
	}
	if _, err := s.Delete(context.Background(), []string{"en", "id"}); err != nil {
		t.Fatal(err)
	}
	st = stats()
	if _, ok := st.Fields[store.FieldBodyID]; ok || st.Docs != 7 {
		t.Errorf("after deleting both Indonesian documents: %+v (%d documents)", st.Fields, st.Docs)
	}
}

// TestEnglishScoresUnchangedBesideOtherLanguages: documents in other
// languages change neither the English documents' average length nor
// their scores beyond the collection size in IDF.
func TestEnglishScoresUnchangedBesideOtherLanguages(t *testing.T) {
	en := []cari.Document{
		doc("e1", "Whales are the largest animals that have ever lived on Earth."),
		doc("e2", "Blue whales eat krill, small crustaceans that live in cold seas."),
		doc("e3", "Krill swarms can be seen from space in the Southern Ocean."),
	}
	s := newStore(t, Options{})
	upsert(t, s, en...)
	upsert(t, s, cjkCorpus()[:4]...)
	r, release, err := s.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n, avgdl, err := collectionStats(r, store.FieldBody)
	release()
	if err != nil {
		t.Fatal(err)
	}
	var tokens int
	a := s.analyzer
	for _, d := range en {
		tokens += len(a.Analyze(store.FieldBody, d.Text))
	}
	if n != 7 || math.Abs(avgdl-float64(tokens)/3) > 1e-9 {
		t.Errorf("English field: N %d, avgdl %v; want N 7 (the collection), avgdl %v (English documents only)", n, avgdl, float64(tokens)/3)
	}
	hits := mustSearch(t, s, store.KeywordQuery{Text: "blue whales krill", Limit: 10})
	if len(hits) == 0 || hits[0].ID != "e2" {
		t.Errorf("blue whales krill ranked %v, want e2 first", hitIDs(hits))
	}
}
