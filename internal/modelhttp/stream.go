package modelhttp

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cari-search/cari"
)

// maxEventBytes bounds one server-sent event line of a streamed answer.
const maxEventBytes = 1 << 20

// ReadChatStream reads a streamed chat completion (server-sent events of
// chunks, ending with [DONE]) from body, handing each piece of the
// answer to emit as it comes, and returns the whole text. A stream that
// ends without [DONE] but with text is whole, as some servers end so; ctx
// is the request's, whose end explains a broken-off read.
func ReadChatStream(ctx context.Context, body io.Reader, emit func(string)) (string, error) {
	var text strings.Builder
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue // blank lines, comments, event: and id: lines
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			return text.String(), nil
		}
		var c ChatCompletion
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return text.String(), fmt.Errorf("malformed stream event %q: %w", cari.Truncate(data, 80, "…"), err)
		}
		if len(c.Error) > 0 {
			return text.String(), fmt.Errorf("stream error: %s", ErrorMessage(errorBody(c.Error)))
		}
		if c.Object == "error" {
			// Older vLLM follows its flat error event with [DONE]: the
			// text so far is cut off, never complete.
			return text.String(), fmt.Errorf("stream error: %s", cmp.Or(c.Message, "the server reported an error"))
		}
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			piece := c.Choices[0].Delta.Content
			text.WriteString(piece)
			emit(piece)
		}
	}
	if ctx.Err() != nil {
		return text.String(), context.Cause(ctx)
	}
	if err := sc.Err(); err != nil {
		return text.String(), fmt.Errorf("read stream: %w", err)
	}
	if text.Len() == 0 {
		return "", errors.New("the stream ended without an answer or [DONE]")
	}
	return text.String(), nil
}

// errorBody wraps an error event's value as the body ErrorMessage reads.
func errorBody(e json.RawMessage) []byte {
	return append(append([]byte(`{"error":`), e...), '}')
}
