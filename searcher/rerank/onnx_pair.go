package rerank

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"unicode"

	"github.com/sugarme/tokenizer"

	"github.com/cari-search/cari/embeddings/tokenizerjson"
)

// A cross-encoder reads the query and the passage as one sequence, joined
// by the special tokens its tokenizer's post_processor prescribes:
// [CLS] q [SEP] p [SEP] for BERT, <s> q </s></s> p </s> for XLM-R. Cari
// tokenizes both texts without special tokens, truncates, then lays them
// out by that template, so that truncation can take tokens from the
// passage alone, as Hugging Face's "only_second" strategy does.

// templatePiece is one part of a pair template: a sequence (0 the query,
// 1 the passage) or special token ids, with the type id its tokens get.
type templatePiece struct {
	seq     int // 0 or 1; -1 for special tokens
	special []int
	typeID  int
}

// pairTemplate is the post_processor's layout of a pair.
type pairTemplate []templatePiece

// specials counts the special tokens the template adds.
func (t pairTemplate) specials() int {
	n := 0
	for _, p := range t {
		n += len(p.special)
	}
	return n
}

// postProcessor is the post_processor object of tokenizer.json, as far as
// the pair layout goes.
type postProcessor struct {
	Type string `json:"type"`
	Pair []struct {
		SpecialToken *templateRef `json:"SpecialToken"`
		Sequence     *templateRef `json:"Sequence"`
	} `json:"pair"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
	CLS        []any           `json:"cls"` // ["[CLS]", 101]
	Sep        []any           `json:"sep"`
	Processors []postProcessor `json:"processors"`
}

type templateRef struct {
	ID     string `json:"id"`
	TypeID int    `json:"type_id"`
}

// readPairTemplate reads tokenizer.json's post_processor.
func readPairTemplate(path string) (pairTemplate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		PostProcessor *postProcessor `json:"post_processor"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if f.PostProcessor == nil {
		// No special tokens: the two texts back to back.
		return pairTemplate{{seq: 0}, {seq: 1, typeID: 1}}, nil
	}
	t, err := f.PostProcessor.template()
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json post_processor: %w", err)
	}
	return t, nil
}

func (p *postProcessor) template() (pairTemplate, error) {
	switch p.Type {
	case "TemplateProcessing":
		return p.fromTemplate()
	case "BertProcessing", "RobertaProcessing":
		cls, err := postToken(p.CLS, "cls")
		if err != nil {
			return nil, err
		}
		sep, err := postToken(p.Sep, "sep")
		if err != nil {
			return nil, err
		}
		if p.Type == "BertProcessing" {
			return pairTemplate{{seq: -1, special: []int{cls}}, {seq: 0}, {seq: -1, special: []int{sep}},
				{seq: 1, typeID: 1}, {seq: -1, special: []int{sep}, typeID: 1}}, nil
		}
		return pairTemplate{{seq: -1, special: []int{cls}}, {seq: 0}, {seq: -1, special: []int{sep, sep}},
			{seq: 1}, {seq: -1, special: []int{sep}}}, nil
	case "Sequence":
		// The processor that adds special tokens decides the layout;
		// the others (ByteLevel) only adjust offsets.
		for i := len(p.Processors) - 1; i >= 0; i-- {
			if sub := &p.Processors[i]; sub.Type != "ByteLevel" {
				return sub.template()
			}
		}
		return pairTemplate{{seq: 0}, {seq: 1, typeID: 1}}, nil
	}
	return nil, fmt.Errorf("type %q: want TemplateProcessing, BertProcessing, RobertaProcessing or Sequence", p.Type)
}

func (p *postProcessor) fromTemplate() (pairTemplate, error) {
	var t pairTemplate
	seen := map[int]bool{}
	for i, piece := range p.Pair {
		switch {
		case piece.Sequence != nil && (piece.Sequence.ID == "A" || piece.Sequence.ID == "B"):
			seq := map[string]int{"A": 0, "B": 1}[piece.Sequence.ID]
			seen[seq] = true
			t = append(t, templatePiece{seq: seq, typeID: piece.Sequence.TypeID})
		case piece.SpecialToken != nil:
			tok, ok := p.SpecialTokens[piece.SpecialToken.ID]
			if !ok {
				return nil, fmt.Errorf("pair piece %d: special token %q not in special_tokens", i, piece.SpecialToken.ID)
			}
			t = append(t, templatePiece{seq: -1, special: tok.IDs, typeID: piece.SpecialToken.TypeID})
		default:
			return nil, fmt.Errorf("pair piece %d: want a Sequence A or B or a SpecialToken", i)
		}
	}
	if !seen[0] || !seen[1] {
		return nil, errors.New("pair template lacks sequence A or B")
	}
	return t, nil
}

// postToken reads a ["token", id] pair.
func postToken(v []any, field string) (int, error) {
	if len(v) == 2 {
		if id, ok := v[1].(float64); ok {
			return int(id), nil
		}
	}
	return 0, fmt.Errorf("%s: want [token, id], got %v", field, v)
}

// pairEncoder turns (query, passage) pairs into token ids for a
// cross-encoder.
type pairEncoder struct {
	tok       *tokenizer.Tokenizer
	mu        sync.Mutex // the tokenizer's caches are not safe for concurrent use
	template  pairTemplate
	padID     int64
	maxTokens int
}

// newPairEncoder reads tokenizer.json; maxTokens bounds a pair, special
// tokens included.
func newPairEncoder(path string, maxTokens int) (*pairEncoder, error) {
	// The template first: its errors are clearer than the library's.
	t, err := readPairTemplate(path)
	if err != nil {
		return nil, err
	}
	f, err := tokenizerjson.Load(path)
	if err != nil {
		return nil, err
	}
	if maxTokens < t.specials()+2 {
		return nil, fmt.Errorf("max tokens %d leaves no room for a query and a passage beside %d special tokens", maxTokens, t.specials())
	}
	return &pairEncoder{tok: f.Tokenizer, template: t, padID: int64(f.PadID), maxTokens: maxTokens}, nil
}

// tokens tokenizes text without special tokens.
func (e *pairEncoder) tokens(text string) ([]int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	enc, err := e.tok.EncodeSingle(text, false)
	if err != nil {
		return nil, err
	}
	return enc.Ids, nil
}

// encode returns the token ids and type ids of one pair within maxTokens.
// The passage is cut first; a query longer than half the room is cut to
// what the passage leaves, so that a long query still leaves the passage
// half.
func (e *pairEncoder) encode(query []int, passage string) (ids, types []int, err error) {
	room := e.maxTokens - e.template.specials()
	p, err := e.leadingTokens(passage, room)
	if err != nil {
		return nil, nil, fmt.Errorf("tokenize passage: %w", err)
	}
	q := query[:min(len(query), room-min(len(p), room/2))]
	p = p[:min(len(p), room-len(q))]
	for _, piece := range e.template {
		seg := piece.special
		switch piece.seq {
		case 0:
			seg = q
		case 1:
			seg = p
		}
		ids = append(ids, seg...)
		for range seg {
			types = append(types, piece.typeID)
		}
	}
	return ids, types, nil
}

// leadingTokens returns text's tokens, or at least its first n: it
// tokenizes a start of the text cut at whitespace, longer each time, until
// that gives n tokens or is the whole text. Tokenizers split words at
// whitespace first, so the tokens of such a start are the first tokens of
// the whole; tokenizing only what a pair can hold saves most of the time
// for short models and long passages.
func (e *pairEncoder) leadingTokens(text string, n int) ([]int, error) {
	for limit := 8 * n; ; limit *= 2 {
		start, whole := cutAtSpace(text, limit)
		ids, err := e.tokens(start)
		if err != nil || whole || len(ids) >= n {
			return ids, err
		}
	}
}

// cutAtSpace returns text up to the last whitespace at or before byte
// limit (or the first after it, for a long word), and whether that is all
// of text.
func cutAtSpace(text string, limit int) (string, bool) {
	if len(text) <= limit {
		return text, true
	}
	isSpace := func(r rune) bool { return unicode.IsSpace(r) }
	if i := strings.LastIndexFunc(text[:limit+1], isSpace); i > 0 {
		return text[:i], false
	}
	if i := strings.IndexFunc(text[limit:], isSpace); i >= 0 {
		return text[:limit+i], false
	}
	return text, true
}
