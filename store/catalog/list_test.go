package catalog

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestListing(t *testing.T) {
	c := open(t, t.TempDir())
	if _, err := c.Create("cranfield", Settings{Embedder: "none"}); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateAliases([]AliasAction{{Alias: "live", Collection: "cranfield"}}); err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := c.Listing().WriteText(&text); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[1])[:3], " ") != "cranfield live none" || !strings.HasPrefix(lines[2], "default ") {
		t.Errorf("text listing:\n%s", text.String())
	}
	var js bytes.Buffer
	if err := c.Listing().WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Listing
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Collections) != 2 || back.Aliases[0].Name != "live" {
		t.Errorf("JSON listing %s: %+v, %v", js.String(), back, err)
	}
}
