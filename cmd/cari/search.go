package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cari-search/cari"
	"github.com/cari-search/cari/internal/modelhttp"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/server"
)

var cliSearchTypes = map[string]cariv1.SearchType{
	"auto":    cariv1.SearchType_SEARCH_TYPE_AUTO,
	"keyword": cariv1.SearchType_SEARCH_TYPE_KEYWORD,
	"neural":  cariv1.SearchType_SEARCH_TYPE_NEURAL,
	"hybrid":  cariv1.SearchType_SEARCH_TYPE_HYBRID,
}

func newSearchCmd() *cobra.Command {
	var addr, typ string
	var n, textChars int
	var asJSON bool
	var timeout time.Duration
	var apiKeyFile string
	var domains []string
	cmd := &cobra.Command{
		Use:   "search [flags] QUERY",
		Short: "Search a running cari serve over gRPC",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, ok := cliSearchTypes[strings.ToLower(typ)]
			if !ok {
				return fmt.Errorf("--type must be auto, keyword, neural or hybrid, got %q", typ)
			}
			if n < 1 || n > math.MaxInt32 {
				return fmt.Errorf("-n/--num-results must be between 1 and %d (the server allows at most 100), got %d", math.MaxInt32, n)
			}
			if textChars < 0 || textChars > math.MaxInt32 {
				return fmt.Errorf("--text must be between 0 and %d, got %d", math.MaxInt32, textChars)
			}
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				return fmt.Errorf("--addr: %w", err)
			}
			defer conn.Close()
			req := &cariv1.SearchRequest{
				Query:      strings.Join(args, " "),
				Type:       t,
				NumResults: int32(n),
			}
			if len(domains) > 0 {
				req.Filters = &cariv1.SearchFilters{IncludeDomains: domains}
			}
			if textChars > 0 {
				req.Contents = &cariv1.ContentsOptions{Text: &cariv1.TextOptions{MaxCharacters: int32(textChars)}}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			key, err := modelhttp.LoadAPIKey(apiKeyFile, clientKeyEnv)
			if err != nil {
				return fmt.Errorf("--api-key-file: %w", err)
			}
			if key != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "x-api-key", key)
			}
			resp, err := cariv1.NewSearchServiceClient(conn).Search(ctx, req)
			if err != nil {
				st := status.Convert(err)
				return fmt.Errorf("search failed: %s: %s", st.Code(), st.Message())
			}
			if asJSON {
				b, err := protojson.Marshal(resp)
				if err != nil {
					return err
				}
				fmt.Println(string(b))
				return nil
			}
			printResults(resp)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", server.DefaultGRPCAddr, "address of cari serve (host:port)")
	cmd.Flags().StringVar(&typ, "type", "auto", "search type: auto, keyword, neural or hybrid")
	cmd.Flags().IntVarP(&n, "num-results", "n", 10, "number of results (1-100)")
	cmd.Flags().IntVar(&textChars, "text", 0, "also print up to this many characters of each result's text")
	cmd.Flags().StringSliceVar(&domains, "domain", nil, "only results from these domains (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the response as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "deadline of the request")
	cmd.Flags().StringVar(&apiKeyFile, "api-key-file", "", "file holding the API key to send (default: $"+clientKeyEnv+", if set)")
	return cmd
}

// clientKeyEnv holds the API key cari search sends when no file is given;
// no key is fine for a server without keys.
const clientKeyEnv = "CARI_API_KEY"

func printResults(resp *cariv1.SearchResponse) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "RANK\tSCORE\tID\tTITLE\tURL")
	for i, r := range resp.GetResults() {
		fmt.Fprintf(w, "%d\t%.3f\t%s\t%s\t%s\n", i+1, r.GetScore(), r.GetId(), clip(r.GetTitle(), 60), r.GetUrl())
		if r.Text != nil {
			fmt.Fprintf(w, "      %s\n", clip(strings.Join(strings.Fields(r.GetText()), " "), 200))
		}
	}
	w.Flush()
	fmt.Printf("%d results (%s search, %s)\n", len(resp.GetResults()),
		strings.ToLower(strings.TrimPrefix(resp.GetResolvedSearchType().String(), "SEARCH_TYPE_")),
		resp.GetTotalDuration().AsDuration().Round(time.Microsecond))
}

// clip keeps s within n characters, the last of them "…" when s is cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return cari.Truncate(s, n-1, "…")
}
