package evaluation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// SearchFunc ranks the documents for one query text: the system under
// evaluation, asked for its top RecallCutoff.
type SearchFunc func(ctx context.Context, text string) (Ranking, error)

// RunQueries searches every query on workers goroutines (at least one) and
// collects the run; a query with no results has no ranking in it. Errors
// name the query.
func RunQueries(ctx context.Context, queries []Query, workers int, search SearchFunc) (Run, error) {
	workers = max(workers, 1)
	rankings := make([]Ranking, len(queries))
	errs := make([]error, len(queries))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				r, err := search(ctx, queries[i].Text)
				if err != nil {
					errs[i] = fmt.Errorf("query %s: %w", queries[i].ID, err)
					continue
				}
				rankings[i] = r
			}
		})
	}
	for i := range queries {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	run := make(Run, len(queries))
	for i, q := range queries {
		if len(rankings[i]) > 0 {
			run[q.ID] = rankings[i]
		}
	}
	return run, nil
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
