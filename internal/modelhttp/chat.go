package modelhttp

import "encoding/json"

// ChatMessage is one message of a chat completion request.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	// ToolCalls are the calls an assistant message made of the request's
	// Tools, sent back as the model wrote them.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID names the call that a message of role "tool" answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// Tool is a function the model may call: OpenAI's {"type": "function",
// "function": {"name", "description", "parameters"}}, which vLLM (with a
// tool-call parser), llama.cpp, SGLang and Ollama accept.
type Tool struct {
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

// ToolFunction describes a tool: its name, what it is for (the model
// chooses by it) and the JSON Schema of its arguments.
type ToolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// ToolCall is one call the model made: the function's name and its
// arguments as a JSON string, which the model wrote and may have got wrong.
type ToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// Usage is the token count a server reports for one completion.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatRequest is the body of POST /v1/chat/completions, with the fields
// Cari sends.
type ChatRequest struct {
	Model       string        `json:"model"`
	Messages    []ChatMessage `json:"messages"`
	MaxTokens   int           `json:"max_tokens"`
	Temperature float64       `json:"temperature"`
	// Stream asks for server-sent events; nil leaves the field out, for
	// the server's default (no stream).
	Stream      *bool `json:"stream,omitempty"`
	Logprobs    bool  `json:"logprobs,omitempty"`
	TopLogprobs int   `json:"top_logprobs,omitempty"`
	// ChatTemplateKwargs go to the model's chat template; see NoThinking.
	// Servers that do not know the field ignore it.
	ChatTemplateKwargs map[string]any `json:"chat_template_kwargs,omitempty"`
	// ResponseFormat, if set, asks for output in a shape; see JSONSchemaFormat.
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	// Tools the model may call; ToolChoice ("auto", "none") says whether
	// it may call them now. Both are left out when empty.
	Tools      []Tool `json:"tools,omitempty"`
	ToolChoice string `json:"tool_choice,omitempty"`
}

// ResponseFormat is OpenAI's response_format: {"type": "json_schema",
// "json_schema": {"name", "schema", "strict"}} asks for JSON valid against
// a schema, which vLLM, SGLang, llama.cpp and Ollama enforce by constrained
// decoding. A server that ignores it still gets the schema in the prompt
// from callers that care, and they validate what comes back.
type ResponseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

// JSONSchema names a JSON Schema for ResponseFormat.
type JSONSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict bool            `json:"strict"`
}

// JSONSchemaFormat asks for JSON valid against schema, named name.
func JSONSchemaFormat(name string, schema json.RawMessage) *ResponseFormat {
	return &ResponseFormat{Type: "json_schema", JSONSchema: &JSONSchema{Name: name, Schema: schema, Strict: true}}
}

// NoThinking are the chat template arguments that turn off the thinking
// of Qwen3 and DeepSeek templates, which would spend the token budget
// before the answer (and write the empty thinking block Qwen3-Reranker
// expects).
func NoThinking() map[string]any { return map[string]any{"enable_thinking": false} }

// ChatCompletion is the part of a chat completion, or of one chunk of a
// streamed one, that Cari reads.
type ChatCompletion struct {
	Choices []ChatChoice `json:"choices"`
	// Error is set on a stream's error event.
	Error json.RawMessage `json:"error"`
	// Object is "error", and Message the error, on the flat error event
	// vLLM before 0.10.1 sends mid-stream ({"object": "error", "message",
	// "type", "code"}), which has no "error" field.
	Object  string `json:"object"`
	Message string `json:"message"`
	// Usage is the tokens the completion took, when the server says.
	Usage *Usage `json:"usage"`
}

// ChatChoice is one choice of a completion: its message, or in a stream
// its delta, and the logprobs of its tokens when they were asked for.
type ChatChoice struct {
	Message struct {
		Content   *string    `json:"content"`
		ToolCalls []ToolCall `json:"tool_calls"`
	} `json:"message"`
	Delta struct {
		Content string `json:"content"`
	} `json:"delta"`
	Logprobs *struct {
		Content []TokenLogprob `json:"content"`
	} `json:"logprobs"`
	FinishReason string `json:"finish_reason"`
}

// TokenLogprob is one generated token's log-probability and its most
// likely alternatives.
type TokenLogprob struct {
	Token       string  `json:"token"`
	Logprob     float64 `json:"logprob"`
	TopLogprobs []struct {
		Token   string  `json:"token"`
		Logprob float64 `json:"logprob"`
	} `json:"top_logprobs"`
}

// Content is the first choice's message text; ok is false when there is
// none (no choices, or content null).
func (c *ChatCompletion) Content() (text string, ok bool) {
	if len(c.Choices) == 0 || c.Choices[0].Message.Content == nil {
		return "", false
	}
	return *c.Choices[0].Message.Content, true
}
