package research

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cari-search/cari/internal/modelhttp"
)

// sources number the documents the tools showed the model, from 1, once
// each: a report cites them by number.
type sources struct {
	list   []Citation
	isRead []bool
	byURL  map[string]int
}

// add numbers r, or returns the number it already has.
func (s *sources) add(r exaResult) int {
	key := r.URL
	if key == "" {
		key = r.ID
	}
	if n, ok := s.byURL[key]; ok {
		if s.list[n-1].Title == "" {
			s.list[n-1].Title = r.Title
		}
		return n
	}
	n := len(s.list) + 1
	s.list = append(s.list, Citation{Number: n, ID: r.ID, URL: r.URL, Title: r.Title})
	s.isRead = append(s.isRead, false)
	s.byURL[key] = n
	return n
}

func (s *sources) markRead(n int) { s.isRead[n-1] = true }

func (s *sources) count() int { return len(s.list) }

// read are the documents the model read, the citations of a JSON output.
func (s *sources) read() []Citation {
	var out []Citation
	for i, c := range s.list {
		if s.isRead[i] {
			out = append(out, c)
		}
	}
	return out
}

// citeRef matches a citation such as [3], also within [2][3] or [2, 3].
var citeRef = regexp.MustCompile(`\[(\d+(?:\s*,\s*\d+)*)\]`)

// cited are the sources report cites, by number, each once; numbers the
// model was never given are not sources.
func (s *sources) cited(report string) []Citation {
	var nums []int
	for _, m := range citeRef.FindAllStringSubmatch(report, -1) {
		for part := range strings.SplitSeq(m[1], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err == nil && n >= 1 && n <= len(s.list) && !slices.Contains(nums, n) {
				nums = append(nums, n)
			}
		}
	}
	slices.Sort(nums)
	out := make([]Citation, len(nums))
	for i, n := range nums {
		out[i] = s.list[n-1]
	}
	return out
}

// withSources ends report with the list of the sources it cites.
func withSources(report string, cited []Citation) string {
	if len(cited) == 0 {
		return report
	}
	var b strings.Builder
	b.WriteString(report)
	b.WriteString("\n\n## Sources\n\n")
	for _, c := range cited {
		title := c.Title
		if title == "" {
			title = c.URL
		}
		fmt.Fprintf(&b, "%d. [%s](%s)\n", c.Number, title, c.URL)
	}
	return strings.TrimRight(b.String(), "\n")
}

// maxSchemaBytes bounds a task's outputSchema.
const maxSchemaBytes = 64 << 10

// outputSchema is a task's JSON Schema, compiled.
type outputSchema struct{ schema *jsonschema.Schema }

// schemaURL is where the schema lives for the compiler: an absolute URL,
// so that no path of the server's shows in errors.
const schemaURL = "urn:cari:research-schema"

type refuseLoader struct{}

func (refuseLoader) Load(string) (any, error) {
	return nil, errors.New(`only references inside the schema ($ref: "#/...") are allowed`)
}

// compileSchema compiles raw; its errors are the caller's to fix.
func compileSchema(raw json.RawMessage) (*outputSchema, error) {
	if len(raw) > maxSchemaBytes {
		return nil, fmt.Errorf("outputSchema: the schema is %d bytes; at most %d are allowed", len(raw), maxSchemaBytes)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("outputSchema: not JSON: %v", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errors.New("outputSchema: must be a JSON Schema object")
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("outputSchema: %v", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("outputSchema: not a valid JSON Schema: %s", oneLine(err))
	}
	return &outputSchema{schema: s}, nil
}

// validate parses the model's reply as JSON and checks it against s,
// returning it compacted.
func (s *outputSchema) validate(text string) (json.RawMessage, error) {
	text = strings.TrimSpace(modelhttp.StripCodeFence(text))
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("the model's output is not JSON: %v", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("the model's output is not a JSON object")
	}
	if err := s.schema.Validate(v); err != nil {
		return nil, fmt.Errorf("the model's output does not match outputSchema: %s", oneLine(err))
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(text)); err != nil {
		return nil, fmt.Errorf("the model's output is not JSON: %v", err)
	}
	return compact.Bytes(), nil
}

// oneLine is err on one line, without the schema's URL.
func oneLine(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	for _, quoted := range []string{"'" + schemaURL + "#'", `"` + schemaURL + `#"`} {
		msg = strings.ReplaceAll(msg, quoted, "the schema")
	}
	return msg
}
