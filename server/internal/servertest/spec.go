package servertest

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// ExaSpec is where Exa's OpenAPI document lives, the base against which
// the schemas copied from it resolve their $refs.
const ExaSpec = "https://github.com/exa-labs/openapi-spec/exa-openapi-spec.yaml"

// SpecCompiler reads the YAML file at path, an excerpt of Exa's OpenAPI
// document, into a JSON Schema 2020-12 compiler as ExaSpec; the caller
// compiles ExaSpec+"#/components/...". Formats are asserted (a url must be
// an absolute URI), as a strictly typed client checks them.
func SpecCompiler(t testing.TB, path string) *jsonschema.Compiler {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// Through JSON, so numbers are what the validator expects.
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(ExaSpec, inst); err != nil {
		t.Fatal(err)
	}
	return c
}
