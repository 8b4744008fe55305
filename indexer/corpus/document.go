package corpus

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Errors a LineError may wrap, for callers that count malformed lines by cause. A line that is
// not valid JSON wraps the encoding/json error instead.
var (
	// ErrMissingID: the object has no "_id".
	ErrMissingID = errors.New("missing _id")
	// ErrEmptyID: "_id" is the empty string.
	ErrEmptyID = errors.New("empty _id")
	// ErrNotString: "_id", "title", "text" or "language" holds a number, null, object or other non-string.
	ErrNotString = errors.New("field is not a string")
	// ErrNotObject: the line is valid JSON but not an object.
	ErrNotObject = errors.New("line is not a JSON object")
)

// LineError reports a malformed corpus line. The reader skips the line and can go on.
type LineError struct {
	// Line is the 1-based line number in the (decompressed) corpus.
	Line int
	Err  error
}

// Error implements error.
func (e *LineError) Error() string {
	return fmt.Sprintf("corpus line %d: %v", e.Line, e.Err)
}

// Unwrap returns the cause.
func (e *LineError) Unwrap() error {
	return e.Err
}

// parseDocument decodes one corpus line. Keys are matched exactly ("_id", not "_ID"); title,
// text and language may be absent (read as empty) but, if present, must be strings; other keys
// are ignored.
func parseDocument(line []byte) (Document, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Document{}, fmt.Errorf("%w: found %s", ErrNotObject, typeErr.Value)
		}
		return Document{}, fmt.Errorf("decode json: %w", err)
	}
	if obj == nil {
		return Document{}, fmt.Errorf("%w: found null", ErrNotObject)
	}
	id, found, err := stringField(obj, "_id")
	switch {
	case err != nil:
		return Document{}, err
	case !found:
		return Document{}, ErrMissingID
	case id == "":
		return Document{}, ErrEmptyID
	}
	title, _, err := stringField(obj, "title")
	if err != nil {
		return Document{}, fmt.Errorf("document %q: %w", id, err)
	}
	text, _, err := stringField(obj, "text")
	if err != nil {
		return Document{}, fmt.Errorf("document %q: %w", id, err)
	}
	language, _, err := stringField(obj, "language")
	if err != nil {
		return Document{}, fmt.Errorf("document %q: %w", id, err)
	}
	return Document{ID: id, Title: title, Text: text, Language: language}, nil
}

// stringField returns the string value of key in obj and whether the key is present.
func stringField(obj map[string]json.RawMessage, key string) (string, bool, error) {
	raw, ok := obj[key]
	if !ok {
		return "", false, nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", true, fmt.Errorf("%w: %q is %s", ErrNotString, key, jsonKind(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, fmt.Errorf("decode %q: %w", key, err)
	}
	return s, true, nil
}

// jsonKind names the type of a JSON value for an error message, without quoting the value,
// which may be large.
func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
