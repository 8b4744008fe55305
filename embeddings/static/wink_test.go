package static

import (
	"strings"
	"testing"
)

const winkSample = `{"precision":8,"l2NormIndex":3,"wordIndex":4,"size":3,"dimensions":3,
"words":["the",",","cat"],
"vectors":{"cat":[0.5,0.5,0,0.7071,2],"the":[1,0,0,1,0],",":[0,1,0,1,1]},
"unkVector":[0,0,0,0,-1]}`

func TestReadWink(t *testing.T) {
	v, err := ReadWink(strings.NewReader(winkSample))
	if err != nil {
		t.Fatal(err)
	}
	if v.Dim != 3 || !equalStrings(v.Words, []string{"the", ",", "cat"}) {
		t.Fatalf("got dim %d words %q", v.Dim, v.Words)
	}
	if v.Rows[6] != 0.5 || v.Rows[0] != 1 || v.Rows[4] != 1 {
		t.Errorf("rows %v", v.Rows)
	}
}

func TestReadWinkErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":       `{"words": [`,
		"missing vector": strings.Replace(winkSample, `"cat":[0.5,0.5,0,0.7071,2],`, "", 1),
		"wrong index":    strings.Replace(winkSample, `0.7071,2]`, `0.7071,1]`, 1),
		"short vector":   strings.Replace(winkSample, `[1,0,0,1,0]`, `[1,0,0]`, 1),
		"no words":       `{"dimensions":3,"l2NormIndex":3,"wordIndex":4,"vectors":{}}`,
		"bad layout":     strings.Replace(winkSample, `"wordIndex":4`, `"wordIndex":1`, 1),
	} {
		if _, err := ReadWink(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
