package research

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cari-search/cari/internal/modelhttp"
)

// planID names the one plan a task's agent follows: Cari's agent is one
// loop, not Exa's plan of parallel sub-tasks.
const planID = "plan-1"

const (
	agentTemperature  = 0.2
	chatMaxRetries    = 1 // of a 408, 429, 5xx or network failure
	chatRetryDelay    = time.Second
	chatMaxReplyBytes = 16 << 20
	// maxCallsPerReply bounds the tool calls run for one reply.
	maxCallsPerReply = 8
	// charsPerToken estimates tokens when the server reports no usage.
	charsPerToken = 4
)

// systemPrompt tells the model how to research.
const systemPrompt = `You are a research agent. You answer the user's instructions from the documents of a search engine, which you reach only through your tools:
- search(query): finds documents; each result has a number [n], a title, a url and highlights.
- contents(urls): reads the text of documents, by the urls that search returned.
- find_similar(url): finds documents like one you found.
Work in steps: plan what you need to know, search, read the most promising documents, and follow up with new searches on what you learn. Search with several short queries rather than one long one.
When you know enough, reply without calling a tool. Base every statement on the documents and cite each claim with the numbers of its sources in square brackets, like [1] or [2][3]. Never cite a number you were not given.`

// reportPrompt and schemaPrompt say what the final reply is.
const (
	reportPrompt = `Your final reply is a report in Markdown that answers the instructions, every claim cited. Do not add a list of sources at the end: it is added for you.`
	schemaPrompt = "Your final reply is one JSON object, and nothing else, valid against this JSON Schema:\n%s\nWhere the schema has room for sources, give their urls."
	finalPrompt  = `Your budget for this task is spent: write your final reply now, from what you have found, without calling a tool.`
)

// chatClient calls the model server.
type chatClient struct {
	client modelhttp.Client
	opts   ChatOptions
}

// newChatClient checks o; no URL is no model, a nil client.
func newChatClient(o ChatOptions) (*chatClient, error) {
	if o.URL == "" {
		return nil, nil
	}
	if err := modelhttp.CheckServer(o.URL, o.Model); err != nil {
		return nil, fmt.Errorf("research: chat %w", err)
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.ReplyTokens <= 0 {
		o.ReplyTokens = DefaultReplyTokens
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	return &chatClient{opts: o, client: modelhttp.Client{BaseURL: o.URL, APIKey: o.APIKey, HTTPClient: o.HTTPClient, Timeout: o.CallTimeout,
		Retry: modelhttp.Retry{MaxRetries: chatMaxRetries, FitDeadline: true, Delay: func(int, time.Duration) time.Duration { return chatRetryDelay }}}}, nil
}

// reply is what the model answered to one call.
type reply struct {
	content   string
	toolCalls []modelhttp.ToolCall
	tokens    int
}

// complete sends messages (with tools, unless nil) and returns the reply.
func (c *chatClient) complete(ctx context.Context, messages []modelhttp.ChatMessage, tools []modelhttp.Tool) (reply, error) {
	stream := false
	req := modelhttp.ChatRequest{Model: c.opts.Model, Messages: messages, MaxTokens: c.opts.ReplyTokens,
		Temperature: agentTemperature, Stream: &stream, ChatTemplateKwargs: modelhttp.NoThinking(), Tools: tools}
	if len(tools) > 0 {
		req.ToolChoice = "auto"
	}
	data, err := c.client.Post(ctx, "/chat/completions", req, chatMaxReplyBytes)
	if err != nil {
		return reply{}, fmt.Errorf("chat model %s: %w", c.opts.Model, err)
	}
	var cc modelhttp.ChatCompletion
	if err := json.Unmarshal(data, &cc); err != nil {
		return reply{}, fmt.Errorf("chat model %s: malformed reply: %w", c.opts.Model, err)
	}
	if len(cc.Choices) == 0 {
		return reply{}, fmt.Errorf("chat model %s: malformed reply: no choices", c.opts.Model)
	}
	msg := cc.Choices[0].Message
	r := reply{toolCalls: msg.ToolCalls}
	if msg.Content != nil {
		r.content = modelhttp.StripThinking(*msg.Content)
	}
	if len(r.toolCalls) == 0 {
		r.content, r.toolCalls = textToolCalls(r.content)
	}
	if cc.Usage != nil && cc.Usage.TotalTokens > 0 {
		r.tokens = cc.Usage.TotalTokens
	} else {
		r.tokens = estimateTokens(messages) + len(data)/charsPerToken
	}
	return r, nil
}

// toolCallTag opens a tool call that Qwen's and Hermes' chat templates
// write into the text, which a server without a tool-call parser (vLLM
// without --tool-call-parser hermes) passes on as it is.
const toolCallTag = "<tool_call>"

// textToolCalls takes the <tool_call>{"name", "arguments"}</tool_call>
// blocks out of content, as the calls a parser would have made of them;
// a block that does not decode is left in the text, and the reply is then
// final, for the output check to refuse.
func textToolCalls(content string) (string, []modelhttp.ToolCall) {
	if !strings.Contains(content, toolCallTag) {
		return content, nil
	}
	var calls []modelhttp.ToolCall
	var rest strings.Builder
	text := content
	for {
		before, after, ok := strings.Cut(text, toolCallTag)
		rest.WriteString(before)
		if !ok {
			break
		}
		body, tail, closed := strings.Cut(after, "</tool_call>")
		var call struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &call); err != nil || call.Name == "" {
			return content, nil
		}
		var tc modelhttp.ToolCall
		tc.Type, tc.Function.Name, tc.Function.Arguments = "function", call.Name, string(call.Arguments)
		calls = append(calls, tc)
		if !closed {
			break
		}
		text = tail
	}
	return strings.TrimSpace(rest.String()), calls
}

// estimateTokens guesses the prompt's tokens from its characters.
func estimateTokens(messages []modelhttp.ChatMessage) int {
	n := 0
	for _, m := range messages {
		n += len(m.Content)
		for _, c := range m.ToolCalls {
			n += len(c.Function.Arguments)
		}
	}
	return n / charsPerToken
}

// agent is one task's run: the conversation with the model, the tools and
// the budgets.
type agent struct {
	s        *Service
	t        *task
	tools    *toolbox
	schema   *outputSchema // nil: a Markdown report
	messages []modelhttp.ChatMessage
	tokens   int
	steps    int
	// corrected says the model was sent back its output once already.
	corrected bool
}

// agentState is what an agent needs to go on after a restart: the
// conversation, the budgets spent and the numbered sources.
type agentState struct {
	Messages  []modelhttp.ChatMessage `json:"messages"`
	Steps     int                     `json:"steps"`
	Tokens    int                     `json:"tokens"`
	Corrected bool                    `json:"corrected,omitempty"`
	Sources   []Citation              `json:"sources,omitempty"`
	// Read are the numbers of the sources the agent read.
	Read []int `json:"read,omitempty"`
}

// checkpoint stores the agent's state with the task.
func (a *agent) checkpoint() {
	st := &agentState{Messages: slices.Clone(a.messages), Steps: a.steps, Tokens: a.tokens, Corrected: a.corrected,
		Sources: slices.Clone(a.tools.sources.list)}
	for i, read := range a.tools.sources.isRead {
		if read {
			st.Read = append(st.Read, i+1)
		}
	}
	a.s.save(a.t, func(r *Record) { r.State = st })
}

// restore puts the agent where st left it.
func (a *agent) restore(st *agentState) {
	a.messages, a.steps, a.tokens, a.corrected = st.Messages, st.Steps, st.Tokens, st.Corrected
	for _, c := range st.Sources {
		a.tools.sources.add(exaResult{ID: c.ID, URL: c.URL, Title: c.Title})
	}
	for _, n := range st.Read {
		if n >= 1 && n <= a.tools.sources.count() {
			a.tools.sources.markRead(n)
		}
	}
}

// newAgent starts the conversation of the task rec.
func (s *Service) newAgent(t *task, rec Record) (*agent, error) {
	var schema *outputSchema
	if len(rec.OutputSchema) > 0 {
		var err error
		if schema, err = compileSchema(rec.OutputSchema); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	auth := t.auth
	t.mu.Unlock()
	a := &agent{s: s, t: t, schema: schema, tools: newToolbox(s.opts.Exa, rec.Collection, auth)}
	final := reportPrompt
	if schema != nil {
		final = fmt.Sprintf(schemaPrompt, rec.OutputSchema)
	}
	a.messages = []modelhttp.ChatMessage{
		{Role: "system", Content: systemPrompt + "\n\n" + final},
		{Role: "user", Content: rec.Instructions},
	}
	if rec.State != nil {
		a.restore(rec.State)
	}
	return a, nil
}

// run talks with the model until it writes an output that passes, or a
// budget ends the task.
func (a *agent) run(ctx context.Context) (*Output, error) {
	for a.steps < a.s.opts.MaxSteps {
		a.steps++
		final := a.steps == a.s.opts.MaxSteps || a.tokens >= a.s.opts.MaxTokens
		r, err := a.call(ctx, final)
		if err != nil {
			return nil, err
		}
		if len(r.toolCalls) > 0 {
			if final {
				return nil, a.budgetError(r)
			}
			a.act(ctx, r)
			a.checkpoint()
			continue
		}
		out, problem := a.output(r.content)
		if problem == nil {
			a.event(eventPlanOutput, nil, &EventOutput{OutputType: "stop", Reasoning: "the agent wrote its output"})
			return out, nil
		}
		if final || a.corrected {
			return nil, problem
		}
		a.corrected = true
		a.messages = append(a.messages, modelhttp.ChatMessage{Role: "assistant", Content: r.content},
			modelhttp.ChatMessage{Role: "user", Content: problem.Error() + ". Write your final reply again, corrected."})
		a.checkpoint()
	}
	return nil, fmt.Errorf("the model made %d calls, its step budget, without writing an output that passes", a.s.opts.MaxSteps)
}

// call asks the model for its next reply; the final call offers no tools
// and says the budget is spent.
func (a *agent) call(ctx context.Context, final bool) (reply, error) {
	messages, tools := a.messages, toolDefinitions
	if final {
		messages = append(messages[:len(messages):len(messages)], modelhttp.ChatMessage{Role: "user", Content: finalPrompt})
		tools = nil
	}
	r, err := a.s.chat.complete(ctx, messages, tools)
	if err != nil {
		return r, err
	}
	a.tokens += r.tokens
	return r, nil
}

// budgetError says which budget ended a model that still called tools.
func (a *agent) budgetError(r reply) error {
	names := make([]string, len(r.toolCalls))
	for i, c := range r.toolCalls {
		names[i] = c.Function.Name
	}
	called := strings.Join(names, ", ")
	if a.steps >= a.s.opts.MaxSteps {
		return fmt.Errorf("step budget spent: the model made %d calls and, told to write its output, still called tools (%s)", a.steps, called)
	}
	return fmt.Errorf("token budget spent: the model used %d tokens of %d and, told to write its output, still called tools (%s)", a.tokens, a.s.opts.MaxTokens, called)
}

// act runs the reply's tool calls and adds their results to the
// conversation; a call the model got wrong gets the error as its result,
// for the model to correct.
func (a *agent) act(ctx context.Context, r reply) {
	if strings.TrimSpace(r.content) != "" {
		a.event(eventPlanOperation, &Operation{Type: "think", Content: r.content}, nil)
	}
	calls := make([]modelhttp.ToolCall, len(r.toolCalls))
	for i, c := range r.toolCalls {
		if c.ID == "" {
			c.ID = fmt.Sprintf("call_%d_%d", a.steps, i+1)
		}
		if c.Type == "" {
			c.Type = "function"
		}
		calls[i] = c
	}
	a.messages = append(a.messages, modelhttp.ChatMessage{Role: "assistant", Content: r.content, ToolCalls: calls})
	for i, c := range calls {
		if i >= maxCallsPerReply {
			// Every call gets its result, as the protocol wants, but one
			// reply may not search without bound.
			a.messages = append(a.messages, modelhttp.ChatMessage{Role: "tool", ToolCallID: c.ID,
				Content: fmt.Sprintf("error: not run: at most %d tool calls are run per reply", maxCallsPerReply)})
			continue
		}
		result, ops := a.tools.call(ctx, c)
		for _, op := range ops {
			a.event(eventPlanOperation, op, nil)
		}
		a.messages = append(a.messages, modelhttp.ChatMessage{Role: "tool", ToolCallID: c.ID, Content: result})
	}
}

// output checks the final reply: a JSON object valid against the schema,
// or a report that cites its sources.
func (a *agent) output(content string) (*Output, error) {
	if a.schema != nil {
		parsed, err := a.schema.validate(content)
		if err != nil {
			return nil, err
		}
		return &Output{Content: string(parsed), Parsed: parsed, Citations: a.tools.sources.read()}, nil
	}
	report := strings.TrimSpace(content)
	if report == "" {
		return nil, errors.New("the model's final reply is empty")
	}
	cited := a.tools.sources.cited(report)
	if len(cited) == 0 && a.tools.sources.count() > 0 {
		return nil, errors.New("the report cites no source: cite each claim with the numbers of its sources, like [1]")
	}
	return &Output{Content: withSources(report, cited), Citations: cited}, nil
}

// event adds an event of the plan to the task.
func (a *agent) event(eventType string, op *Operation, out *EventOutput) {
	a.s.save(a.t, func(r *Record) {
		ev := Event{EventType: eventType, ResearchID: r.ResearchID, CreatedAt: a.s.now().UnixMilli(), PlanID: planID, Data: op, Output: out}
		if op != nil {
			ev.OperationID = fmt.Sprintf("op-%d", len(r.Events)+1)
		}
		r.Events = append(r.Events, ev)
	})
}

// costOf counts what a completed task did, for Exa's costDollars.
func costOf(events []Event, tokens int) *Cost {
	c := &Cost{ReasoningTokens: tokens}
	for _, ev := range events {
		if ev.Data == nil {
			continue
		}
		switch ev.Data.Type {
		case "search":
			c.NumSearches++
		case "crawl":
			c.NumPages++
		}
	}
	return c
}
