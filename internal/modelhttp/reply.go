package modelhttp

import "strings"

// StripThinking drops a leading <think> block, which a template that
// ignores enable_thinking=false leaves in a reply; an unclosed one is all
// thinking, and leaves nothing.
func StripThinking(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "<think>") {
		return s
	}
	if _, after, ok := strings.Cut(t, "</think>"); ok {
		return after
	}
	return ""
}

// StripCodeFence drops a Markdown code fence around a reply, which models
// without constrained decoding like to write around JSON.
func StripCodeFence(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "```") {
		return s
	}
	t = strings.TrimPrefix(t, "```")
	if nl := strings.IndexByte(t, '\n'); nl >= 0 {
		t = t[nl+1:] // the fence's language tag
	}
	return strings.TrimSuffix(strings.TrimSpace(t), "```")
}
