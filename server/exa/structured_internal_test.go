package exa

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestCompileSchema(t *testing.T) {
	wd, _ := os.Getwd()
	for _, tc := range []struct{ schema, want string }{
		{`[1]`, "must be a JSON Schema object"},
		{`{"type":"thing"}`, "not a valid JSON Schema"},
		// A reference outside the schema would read a file or fetch a URL.
		{`{"$ref":"file:///etc/passwd"}`, "not a valid JSON Schema"},
		{`{"$ref":"http://127.0.0.1:1/schema.json"}`, "not a valid JSON Schema"},
		{`{"type":"object"` + strings.Repeat(" ", maxSchemaBytes) + `}`, "the schema is 65553 bytes; at most"},
	} {
		_, err := compileSchema("outputSchema", json.RawMessage(tc.schema))
		if err == nil || !strings.Contains(err.Error(), "outputSchema: "+tc.want) {
			t.Errorf("%.60s: %v, want an error naming outputSchema: %s", tc.schema, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), wd) || strings.Contains(err.Error(), "root:") {
			t.Errorf("%.60s: %v shows a server path or a file", tc.schema, err)
		}
	}
	s, err := compileSchema("outputSchema", json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"},"defs":{"$ref":"#/$defs/x"}},"$defs":{"x":{"type":"string"}},"required":["n"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ reply, want string }{
		{"{\"n\": 1, \"defs\": \"a\"}", `{"n":1,"defs":"a"}`},
		{"```json\n{\"n\": 2}\n```", `{"n":2}`},
		{"<think>hm</think>{\"n\": 3}", `{"n":3}`},
	} {
		got, err := s.validate(tc.reply)
		if err != nil || string(got) != tc.want {
			t.Errorf("validate(%q) = %s, %v; want %s", tc.reply, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ reply, want string }{
		{`{"n": "one"}`, "does not match the schema"},
		{`{}`, "does not match the schema"},
		{`n is 1`, "not JSON"},
	} {
		if _, err := s.validate(tc.reply); err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), schemaURL) {
			t.Errorf("validate(%q): %v, want %q without the schema's URL", tc.reply, err, tc.want)
		}
	}
}
