package exa

// Structured output from the chat model server: JSON that a caller's JSON
// Schema (summary.schema, /answer's outputSchema, /search's outputSchema)
// describes. The schema goes to the server as response_format, so that
// servers with constrained decoding (vLLM, SGLang, llama.cpp, Ollama)
// cannot write anything else, and into the prompt, for those without; what
// comes back is validated against it here either way, and an invalid reply
// is sent back once with the validation error for the model to correct.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/modelhttp"
)

// structuredAttempts is how often the model may write JSON for one
// request: once, and once more told what was wrong.
const structuredAttempts = 2

// maxSchemaBytes bounds a caller's schema; one that describes a summary or
// an answer is small.
const maxSchemaBytes = 64 << 10

// outputSchema is a caller's JSON Schema, compiled.
type outputSchema struct {
	field  string          // the request field it came from, for errors
	raw    json.RawMessage // as the caller sent it, for the prompt
	schema *jsonschema.Schema
}

// errNoRemoteRefs refuses every $ref outside the schema itself, so that a
// request cannot make the server read a file or fetch a URL.
var errNoRemoteRefs = errors.New("only references inside the schema ($ref: \"#/...\") are allowed")

type refuseLoader struct{}

func (refuseLoader) Load(string) (any, error) { return nil, errNoRemoteRefs }

// compileSchema compiles the JSON Schema raw from the request field named
// field; a schema that is not an object or does not compile is a 400
// naming field.
func compileSchema(field string, raw json.RawMessage) (*outputSchema, error) {
	if len(raw) > maxSchemaBytes {
		return nil, badRequest("%s: the schema is %d bytes; at most %d are allowed", field, len(raw), maxSchemaBytes)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, badRequest("%s: not JSON: %v", field, err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, badRequest("%s: must be a JSON Schema object", field)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, badRequest("%s: %v", field, err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, badRequest("%s: not a valid JSON Schema: %s", field, schemaError(err))
	}
	return &outputSchema{field: field, raw: raw, schema: s}, nil
}

// schemaURL is where a caller's schema lives for the compiler: an absolute
// URL, so that no file path of the server's shows in errors.
const schemaURL = "urn:cari:schema"

// schemaError is err on one line, without the schema's URL.
func schemaError(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	for _, quoted := range []string{"'" + schemaURL + "#'", `"` + schemaURL + `#"`} {
		msg = strings.ReplaceAll(msg, quoted, "the schema")
	}
	return msg
}

// validate parses text as JSON and checks it against s.
func (s *outputSchema) validate(text string) (json.RawMessage, error) {
	text = strings.TrimSpace(modelhttp.StripCodeFence(modelhttp.StripThinking(text)))
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("the reply is not JSON: %v", err)
	}
	if err := s.schema.Validate(v); err != nil {
		return nil, fmt.Errorf("the reply does not match the schema: %s", schemaError(err))
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(text)); err != nil {
		return nil, fmt.Errorf("the reply is not JSON: %v", err)
	}
	return compact.Bytes(), nil
}

// structuredRequest asks for JSON valid against s: the schema in the
// prompt and as response_format, named name.
func (l *llmAnswerer) structuredRequest(system, user, name string, s *outputSchema) modelhttp.ChatRequest {
	req := l.chatRequest(system+"\nReply with one JSON value that is valid against this JSON Schema, and nothing else:\n"+string(s.raw), user)
	req.ResponseFormat = modelhttp.JSONSchemaFormat(name, s.raw)
	return req
}

// structured asks the model for JSON valid against s and returns it,
// compacted. A reply that is not valid goes back to the model once, with
// what is wrong.
func (l *llmAnswerer) structured(ctx context.Context, system, user, name string, s *outputSchema) (json.RawMessage, error) {
	req := l.structuredRequest(system, user, name, s)
	var lastErr error
	for range structuredAttempts {
		text, err := l.complete(ctx, req)
		if err != nil {
			return nil, err
		}
		out, err := s.validate(text)
		if err == nil {
			return out, nil
		}
		lastErr = err
		req.Messages = append(req.Messages,
			modelhttp.ChatMessage{Role: "assistant", Content: text},
			modelhttp.ChatMessage{Role: "user", Content: "That reply is invalid: " + cari.Truncate(err.Error(), 500, "…") + ". Reply again with only the corrected JSON."})
	}
	return nil, lastErr
}
