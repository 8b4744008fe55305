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
	"github.com/cari-search/cari/collections"
	"github.com/cari-search/cari/internal/flagconfig"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/server"
	"github.com/cari-search/cari/store"
)

func newSearchCmd(g *globalFlags) *cobra.Command {
	var addr, typ string
	var n, textChars int
	var asJSON bool
	var timeout time.Duration
	var apiKeyFile string
	var domains, categories []string
	var stackF stackFlags
	cmd := &cobra.Command{
		Use:   "search [flags] QUERY",
		Short: "Search a running cari serve over gRPC, or with --data a data directory in this process",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t := cariv1.SearchType(cariv1.SearchType_value["SEARCH_TYPE_"+strings.ToUpper(typ)])
			if t == cariv1.SearchType_SEARCH_TYPE_UNSPECIFIED {
				return fmt.Errorf("--type must be auto, keyword, neural or hybrid, got %q", typ)
			}
			if err := searcher.CheckNumResults(n, 0); err != nil {
				return flagconfig.FieldError(err, map[string]string{"num_results": "-n/--num-results"})
			}
			if err := searcher.ValidateFilter(&store.Filter{Categories: categories}); err != nil {
				return flagconfig.FieldError(err, map[string]string{"filters.categories": "--category"})
			}
			if textChars < 0 || textChars > math.MaxInt32 {
				return fmt.Errorf("--text must be between 0 and %d, got %d", math.MaxInt32, textChars)
			}
			req := &cariv1.SearchRequest{
				Query:      strings.Join(args, " "),
				Type:       t,
				NumResults: int32(n),
			}
			if len(domains) > 0 || len(categories) > 0 {
				req.Filters = &cariv1.SearchFilters{IncludeDomains: domains, Categories: categories}
			}
			if textChars > 0 {
				req.Contents = &cariv1.ContentsOptions{Text: &cariv1.TextOptions{MaxCharacters: int32(textChars)}}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			resp, err := searchWith(ctx, cmd, g, stackF, addr, apiKeyFile, req)
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
	cmd.Flags().StringSliceVar(&categories, "category", nil, "only results of these categories, as Exa names them (company, \"research paper\", news, pdf, github, tweet, \"personal site\", \"financial report\", people; repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the response as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "deadline of the request")
	cmd.Flags().StringVar(&apiKeyFile, "api-key-file", "", "file holding the API key to send (default: $"+client.DefaultAPIKeyEnv+", if set)")
	stackF.register(cmd.Flags(), embeds|searches|reranks)
	cmd.Flags().Lookup("collection").Usage = "collection (or alias) to search; several, comma-separated, are searched at once and fused by rank (a running cari serve only)"
	return cmd
}

// searchWith sends req to the server at addr or, with --data, answers it
// from the data directory in this process.
func searchWith(ctx context.Context, cmd *cobra.Command, g *globalFlags, stackF stackFlags, addr, keyFile string, req *cariv1.SearchRequest) (*cariv1.SearchResponse, error) {
	client.InCollections(req, stackF.collection)
	if !cmd.Flags().Changed("data") {
		c, err := client.Dial(addr, client.Options{APIKeyFile: keyFile})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.Search(ctx, req)
	}
	log, err := g.logger()
	if err != nil {
		return nil, err
	}
	return collections.SearchDirect(ctx, stackF.options(log), req)
}
