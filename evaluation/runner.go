package evaluation

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// SearchFunc ranks the documents for one query text: the system under
// evaluation, asked for its top RecallCutoff.
type SearchFunc func(ctx context.Context, text string) (Ranking, error)

// Refusal is a query the system refused or failed to answer: it has no
// ranking in the run, so it scores 0, as a query with no results does.
type Refusal struct {
	ID  string
	Err error
}

func (r Refusal) String() string { return fmt.Sprintf("query %s: %v", r.ID, r.Err) }

// RunQueries searches every query on workers goroutines (at least one) and
// collects the run; a query with no results has no ranking in it. One
// query never ends a run: a query the search refuses (one too long for
// it, say) is a Refusal, in the order of queries. The error is ctx's,
// when it ended the run early.
func RunQueries(ctx context.Context, queries []Query, workers int, search SearchFunc) (Run, []Refusal, error) {
	workers = max(workers, 1)
	rankings := make([]Ranking, len(queries))
	errs := make([]error, len(queries))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				rankings[i], errs[i] = search(ctx, queries[i].Text)
			}
		})
	}
	for i := range queries {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	run := make(Run, len(queries))
	var refused []Refusal
	for i, q := range queries {
		switch {
		case errs[i] != nil:
			refused = append(refused, Refusal{ID: q.ID, Err: errs[i]})
		case len(rankings[i]) > 0:
			run[q.ID] = rankings[i]
		}
	}
	return run, refused, nil
}

// WriteRunFile writes run to path as a TREC run file (WriteRun).
func WriteRunFile(path string, run Run, tag string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteRun(f, run, tag); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
