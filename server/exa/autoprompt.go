package exa

import "context"

// autoprompt is the query a search runs: under useAutoprompt, the chat
// model server's rewrite of the caller's, which Exa's useAutoprompt
// ("convert the query to an Exa query") asks for. It is deep search's
// query variation, asked for once. Without a chat model server it is a
// 501 naming the setting; when the model fails or writes nothing new, the
// caller's query runs and a warning says why.
func (a *exaAPI) autoprompt(ctx context.Context, req *exaSearchRequest) (string, []string, error) {
	if !req.UseAutoprompt {
		return req.Query, nil, nil
	}
	if a.llm == nil {
		return "", nil, needsLLM("useAutoprompt", "rewriting the query")
	}
	vs, err := a.llm.variations(ctx, req.Query, 1, req.SystemPrompt)
	if err != nil {
		a.llm.log.Warn("useAutoprompt: query rewrite failed", "model", a.llm.opts.Model, "error", err)
		return req.Query, []string{"useAutoprompt: " + a.llm.describeLLMError(err) + " rewriting the query; searched for it as given"}, nil
	}
	if len(vs) == 0 {
		return req.Query, []string{"useAutoprompt: the chat model wrote no query other than the caller's; searched for it as given"}, nil
	}
	return vs[0], nil, nil
}
