// Command load drives a running cari serve with concurrent gRPC searches
// and reports throughput, latency percentiles and errors by status code, as
// one JSON object. It exits 1 when any request failed, other than with
// RESOURCE_EXHAUSTED under -expect-shed, where at least one must have been
// shed. scripts/bench-load.sh (make bench-load) runs it against SciFact.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari/client"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Summary is what a run prints.
type Summary struct {
	Clients    int            `json:"clients"`
	Seconds    float64        `json:"seconds"`
	Requests   int            `json:"requests"`
	OK         int            `json:"ok"`
	Shed       int            `json:"shed"`
	Errors     map[string]int `json:"errors"`
	RPS        float64        `json:"rps"`
	P50Millis  float64        `json:"p50_ms"`
	P90Millis  float64        `json:"p90_ms"`
	P99Millis  float64        `json:"p99_ms"`
	MaxMillis  float64        `json:"max_ms"`
	FirstError string         `json:"first_error,omitempty"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7700", "gRPC address of cari serve")
	clients := flag.Int("clients", 64, "concurrent clients, each with one request in flight")
	duration := flag.Duration("duration", 60*time.Second, "how long to send requests")
	queriesPath := flag.String("queries", "", "BEIR queries.jsonl whose texts are sent in turn (required)")
	numResults := flag.Int("n", 10, "num_results of each search")
	timeout := flag.Duration("timeout", 30*time.Second, "deadline of each request")
	apiKey := flag.String("api-key", os.Getenv("CARI_API_KEY"), "API key to send, if the server needs one")
	expectShed := flag.Bool("expect-shed", false, "the server is configured to shed: RESOURCE_EXHAUSTED is expected, and required")
	wait := flag.Duration("wait", 60*time.Second, "how long to wait for the server to report SERVING")
	flag.Parse()
	if err := run(*addr, *clients, *duration, *queriesPath, *numResults, *timeout, *apiKey, *expectShed, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(addr string, clients int, duration time.Duration, queriesPath string, n int, timeout time.Duration, key string, expectShed bool, wait time.Duration) error {
	if queriesPath == "" {
		return errors.New("-queries is required")
	}
	queries, err := readQueries(queriesPath)
	if err != nil {
		return err
	}
	search, err := client.Dial(addr, client.Options{APIKey: key})
	if err != nil {
		return err
	}
	defer search.Close()
	ctx := context.Background()
	if err := search.WaitServing(ctx, wait, 200*time.Millisecond); err != nil {
		return err
	}

	var mu sync.Mutex
	sum := Summary{Clients: clients, Errors: map[string]int{}}
	var latencies []time.Duration
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for i := c; time.Now().Before(deadline); i += clients {
				rctx, cancel := context.WithTimeout(ctx, timeout)
				t0 := time.Now()
				_, err := search.Search(rctx, &cariv1.SearchRequest{Query: queries[i%len(queries)], NumResults: int32(n)})
				took := time.Since(t0)
				cancel()
				mu.Lock()
				sum.Requests++
				switch code := status.Code(err); {
				case err == nil:
					sum.OK++
					mine = append(mine, took)
				case code == codes.ResourceExhausted && expectShed:
					sum.Shed++
				default:
					sum.Errors[code.String()]++
					if sum.FirstError == "" {
						sum.FirstError = err.Error()
					}
				}
				mu.Unlock()
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	sum.Seconds = time.Since(start).Seconds()
	sum.RPS = float64(sum.OK) / sum.Seconds
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	sum.P50Millis, sum.P90Millis, sum.P99Millis = pct(0.50), pct(0.90), pct(0.99)
	if len(latencies) > 0 {
		sum.MaxMillis = float64(latencies[len(latencies)-1].Microseconds()) / 1000
	}
	b, _ := json.Marshal(sum)
	fmt.Println(string(b))
	switch {
	case len(sum.Errors) > 0:
		return fmt.Errorf("%d requests failed: %v (first: %s)", sum.Requests-sum.OK-sum.Shed, sum.Errors, sum.FirstError)
	case expectShed && sum.Shed == 0:
		return errors.New("no request was shed, though the server's limits are below the load")
	case sum.OK == 0:
		return errors.New("no request succeeded")
	}
	return nil
}

func readQueries(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var q struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		if q.Text != "" {
			out = append(out, q.Text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no queries", path)
	}
	return out, nil
}

// waitServing polls the health service until the search service serves.
