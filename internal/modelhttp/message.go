package modelhttp

import (
	"encoding/json"
	"strings"

	"github.com/cari-search/cari"
)

// maxMessageChars bounds the start of a body quoted as an error message.
const maxMessageChars = 300

// ErrorMessage extracts a server's error message from the shapes of
// OpenAI, vLLM and llama.cpp ({"error": {"message"}}), TEI ({"error":
// "..."}), FastAPI ({"detail": ...}) and older vLLM ({"message"}), or
// quotes the start of the body.
func ErrorMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil {
		var msg struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(e.Error, &msg) == nil && msg.Message != "":
			return msg.Message
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			return s
		case len(e.Detail) > 0:
			return string(e.Detail)
		case e.Message != "":
			return e.Message // older vLLM: {"object": "error", "message"}
		}
	}
	return cari.Truncate(strings.TrimSpace(string(body)), maxMessageChars, "…")
}
