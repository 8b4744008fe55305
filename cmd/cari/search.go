package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cari-search/cari/client"
	"github.com/cari-search/cari/internal/flagconfig"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server"
)

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
			t := cariv1.SearchType(cariv1.SearchType_value["SEARCH_TYPE_"+strings.ToUpper(typ)])
			if t == cariv1.SearchType_SEARCH_TYPE_UNSPECIFIED {
				return fmt.Errorf("--type must be auto, keyword, neural or hybrid, got %q", typ)
			}
			if err := searcher.CheckNumResults(n, 0); err != nil {
				return flagconfig.FieldError(err, map[string]string{"num_results": "-n/--num-results"})
			}
			if textChars < 0 || textChars > math.MaxInt32 {
				return fmt.Errorf("--text must be between 0 and %d, got %d", math.MaxInt32, textChars)
			}
			c, err := client.Dial(addr, client.Options{APIKeyFile: apiKeyFile})
			if err != nil {
				return err
			}
			defer c.Close()
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
			resp, err := c.Search(ctx, req)
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
			return client.WriteTable(cmd.OutOrStdout(), resp)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", server.DefaultGRPCAddr, "address of cari serve (host:port)")
	cmd.Flags().StringVar(&typ, "type", "auto", "search type: auto, keyword, neural or hybrid")
	cmd.Flags().IntVarP(&n, "num-results", "n", 10, fmt.Sprintf("number of results (1-%d)", searcher.MaxNumResults))
	cmd.Flags().IntVar(&textChars, "text", 0, "also print up to this many characters of each result's text")
	cmd.Flags().StringSliceVar(&domains, "domain", nil, "only results from these domains (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the response as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "deadline of the request")
	cmd.Flags().StringVar(&apiKeyFile, "api-key-file", "", "file holding the API key to send (default: $"+client.DefaultAPIKeyEnv+", if set)")
	return cmd
}
