package qdrant

import (
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
)

// TestDocumentDamagedPayload: a stored payload that cannot be a document
// is refused, naming the payload field.
func TestDocumentDamagedPayload(t *testing.T) {
	offsets := func(vs ...int64) *qdrant.Value {
		list := make([]*qdrant.Value, len(vs))
		for i, v := range vs {
			list[i] = qdrant.NewValueInt(v)
		}
		return qdrant.NewValueFromList(list...)
	}
	for _, tc := range []struct {
		name    string
		payload map[string]*qdrant.Value
		field   string
	}{
		{"offsets past the text", map[string]*qdrant.Value{fieldText: qdrant.NewValueString("short"), fieldChunks: offsets(0, 9)}, fieldChunks},
		{"odd offsets", map[string]*qdrant.Value{fieldText: qdrant.NewValueString("short"), fieldChunks: offsets(0, 2, 4)}, fieldChunks},
		{"bad date", map[string]*qdrant.Value{fieldPublished: qdrant.NewValueString("yesterday")}, fieldPublished},
	} {
		_, err := document(tc.payload)
		if err == nil || !strings.Contains(err.Error(), "field "+tc.field) {
			t.Errorf("%s: %v, want an error naming field %s", tc.name, err, tc.field)
		}
	}
}
