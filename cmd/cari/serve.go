package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc/keepalive"

	"github.com/cari-search/cari/analysis"
	"github.com/cari-search/cari/collections"
	"github.com/cari-search/cari/crawler"
	"github.com/cari-search/cari/embeddings"
	"github.com/cari-search/cari/indexer/reindex"
	"github.com/cari-search/cari/internal/flagconfig"
	"github.com/cari-search/cari/searcher"
	"github.com/cari-search/cari/searcher/rerank"
	"github.com/cari-search/cari/server"
	"github.com/cari-search/cari/server/exa"
	"github.com/cari-search/cari/server/research"
	"github.com/cari-search/cari/store/catalog"
	"github.com/cari-search/cari/web"
)

// serveFlags are cari serve's settings; see config.go for how a config
// file and the environment fill them. Most bind into the option structs of
// the server packages, whose defaults they show.
type serveFlags struct {
	stack          stackFlags
	config         string
	grpcAddr       string
	httpAddr       string
	shutdown       time.Duration
	insecurePublic bool

	keysFile string
	keyLists server.KeyLists

	guard        server.GuardOptions
	requestBytes flagconfig.ByteSize
	uploadBytes  flagconfig.ByteSize
	sendBytes    flagconfig.ByteSize
	numResults   int
	keepalive    keepalive.ServerParameters

	http    server.HTTPOptions
	web     bool
	metrics bool
	tracing server.TracingOptions

	crawl         server.CrawlOptions
	liveCrawl     server.LiveCrawlOptions
	liveNetworks  []string
	crawlMinDelay time.Duration
	reindex       server.ReindexOptions

	answer      exa.AnswerOptions
	urlTemplate string
	research    research.Options
}

func (f *serveFlags) register(fs *pflag.FlagSet) {
	f.stack.register(fs, embeds|searches|reranks|onQdrant)
	fs.StringVar(&f.config, "config", "", "YAML configuration file (default: $"+configEnv+"); flags and CARI_* variables override it")
	fs.StringVar(&f.grpcAddr, "grpc-addr", server.DefaultGRPCAddr, "gRPC listen address (host:port)")
	fs.StringVar(&f.httpAddr, "http-addr", server.DefaultHTTPAddr, `HTTP listen address for the JSON API, /openapi.json, /metrics, /healthz and the search page; "" or "off" to disable`)
	fs.DurationVar(&f.shutdown, "shutdown-timeout", 10*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM")
	fs.BoolVar(&f.insecurePublic, "insecure-public", false, "allow listening on a non-loopback address with no API keys configured")

	fs.StringVar(&f.keysFile, "auth-keys-file", "", "YAML file of API keys (name, key, scope search|admin, optional rate and burst)")
	fs.StringSliceVar(&f.keyLists.Search, "auth-search-keys", nil, "API keys that may search (comma-separated; prefer "+envName("auth-search-keys")+" or the keys file to keep them out of ps)")
	fs.StringSliceVar(&f.keyLists.Admin, "auth-admin-keys", nil, "API keys that may also call IndexService (comma-separated; prefer "+envName("auth-admin-keys")+")")
	fs.StringSliceVar(&f.keyLists.SearchCollections, "auth-search-key-collections", nil, "the only collections (or aliases) the --auth-search-keys may use (comma-separated; default all)")
	fs.StringSliceVar(&f.keyLists.AdminCollections, "auth-admin-key-collections", nil, "the only collections (or aliases) the --auth-admin-keys may use (comma-separated; default all)")
	flagconfig.MarkSecret(fs, "auth-search-keys", "auth-admin-keys")

	g, d := &f.guard, server.DefaultGuard
	fs.Float64Var(&g.Rate, "limit-rate", d.Rate, "requests a second each API key (or, without keys, each client address) may make; 0: unlimited")
	fs.IntVar(&g.Burst, "limit-burst", d.Burst, "requests each key or client may make at once beyond the rate")
	fs.IntVar(&g.MaxConcurrent, "limit-concurrency", d.MaxConcurrent, "unary requests running at once, over gRPC and HTTP together; 0: unlimited")
	fs.IntVar(&g.MaxQueued, "limit-queue", d.MaxQueued, "requests waiting for a slot when all are busy; beyond it requests are shed with RESOURCE_EXHAUSTED / HTTP 429")
	fs.DurationVar(&g.QueueWait, "limit-queue-wait", d.QueueWait, "how long a request waits for a slot before it is shed")
	fs.DurationVar(&g.RequestTimeout, "limit-request-timeout", d.RequestTimeout, "longest a unary request may run; a client deadline may only shorten it; 0: client deadlines only")
	f.requestBytes = server.DefaultMaxRecvBytes
	fs.Var(&f.requestBytes, "limit-request-bytes", "largest request: one gRPC message or one HTTP body")
	f.uploadBytes = server.DefaultMaxUploadBytes
	fs.Var(&f.uploadBytes, "limit-upload-bytes", "largest HTTP body of /v1/documents:upsert, a stream of documents")
	f.sendBytes = server.DefaultMaxSendBytes
	fs.Var(&f.sendBytes, "limit-response-bytes", "largest response message")
	fs.IntVar(&f.numResults, "limit-num-results", searcher.MaxNumResults, fmt.Sprintf("largest num_results a search may ask for (at most %d)", searcher.MaxNumResults))

	fs.DurationVar(&f.keepalive.Time, "grpc-keepalive-time", server.DefaultKeepalive.Time, "ping a gRPC client after this long without activity")
	fs.DurationVar(&f.keepalive.Timeout, "grpc-keepalive-timeout", server.DefaultKeepalive.Timeout, "close a gRPC connection whose ping is not answered in this time")
	fs.DurationVar(&f.keepalive.MaxConnectionIdle, "grpc-max-connection-idle", server.DefaultKeepalive.MaxConnectionIdle, "close gRPC connections idle for this long")

	fs.StringSliceVar(&f.http.CORSOrigins, "http-cors-origins", nil, `origins whose web pages may call the HTTP API ("https://app.example.com"); "*" for any`)
	fs.BoolVar(&f.web, "http-web", true, "serve the search page at /")
	fs.BoolVar(&f.metrics, "http-metrics", true, "serve Prometheus metrics at /metrics")

	fs.StringVar(&f.tracing.Endpoint, "tracing-otlp-endpoint", "", `OpenTelemetry collector URL for traces over OTLP/HTTP ("http://localhost:4318"; /v1/traces is added when it has no path); "" disables tracing`)
	fs.Float64Var(&f.tracing.SampleRatio, "tracing-sample-ratio", 1, "fraction of requests traced, 0 to 1 (a parent's decision wins)")

	fs.BoolVar(&f.crawl.AllowPrivate, "crawl-allow-private", false, "let IndexService.Crawl requests set allow_private (crawl loopback, private and link-local addresses: tests, intranets)")
	fs.StringVar(&f.crawl.Contact, "crawl-contact", "", "URL or email for site operators in the crawler's User-Agent, for Crawl requests that give none")
	fs.DurationVar(&f.crawlMinDelay, "crawl-min-host-delay", time.Second, "least min_host_delay a Crawl request may ask for (0: none)")
	fs.BoolVar(&f.liveCrawl.Enabled, "livecrawl", false, "let Exa's endpoints fetch pages live (livecrawl, maxAgeHours, extras, subpages) through the crawler, writing each page fetched to the index; off: they serve the index's copies")
	fs.StringArrayVar(&f.liveNetworks, "livecrawl-allow-network", nil, "CIDR range --livecrawl may fetch from although private, e.g. 10.20.0.0/16 (repeatable)")
	fs.StringSliceVar(&f.reindex.ImportDirs, "reindex-import-dir", nil, "directories whose corpus, WARC and directory sources IndexService.Reindex may read (none: only current_index)")
	fs.IntVar(&f.reindex.Keep, "reindex-keep", reindex.DefaultKeep, "replaced generations kept for rollback after a Reindex swap; -1 keeps all")

	fs.StringVar(&f.urlTemplate, "url-template", "", `url that Exa's endpoints give a document indexed without one, {id} standing for its ID ("https://docs.example.org/{id}"), unless its collection has a url_template of its own; "": cari:doc/ID`)
	fs.StringVar(&f.answer.URL, "answer-url", "", `OpenAI-compatible chat server (vLLM, llama.cpp, Ollama) that writes Exa's answers, summaries, deep-search query variations and outputSchema output, and runs research tasks (with tool calls), including /v1 ("http://127.0.0.1:8002/v1"); "": extractive answers and summaries only`)
	fs.StringVar(&f.answer.Model, "answer-model", "", "served model name of --answer-url (e.g. Qwen/Qwen3-8B); required with it")
	fs.StringVar(&f.answer.APIKeyFile, "answer-api-key-file", "", "file holding --answer-url's API key (default: $"+exa.DefaultAnswerAPIKeyEnv+")")
	fs.DurationVar(&f.answer.Timeout, "answer-timeout", exa.DefaultAnswerTimeout, "time the LLM may take to write one answer before /answer falls back to an extractive one")
	fs.IntVar(&f.research.MaxSteps, "research-max-steps", research.DefaultMaxSteps, "model calls one research task may make; the last must write its output")
	fs.IntVar(&f.research.MaxTokens, "research-max-tokens", research.DefaultMaxTokens, "tokens (prompt and completion, as --answer-url counts them) one research task may spend")
	fs.DurationVar(&f.research.Timeout, "research-timeout", research.DefaultTimeout, "longest one research task may run")
	fs.IntVar(&f.research.MaxConcurrent, "research-concurrency", research.DefaultMaxConcurrent, "research tasks running at once; more wait, pending")
}

func (f *serveFlags) check() error {
	switch {
	case f.numResults < 1 || f.numResults > searcher.MaxNumResults:
		return fmt.Errorf("--limit-num-results must be between 1 and %d, got %d", searcher.MaxNumResults, f.numResults)
	case f.requestBytes < 1024 || f.requestBytes > 1<<30:
		return fmt.Errorf("--limit-request-bytes must be between 1KiB and 1GiB, got %s", f.requestBytes.String())
	case f.sendBytes < 1024 || f.sendBytes > 1<<30:
		return fmt.Errorf("--limit-response-bytes must be between 1KiB and 1GiB, got %s", f.sendBytes.String())
	case f.uploadBytes < f.requestBytes:
		return fmt.Errorf("--limit-upload-bytes (%s) must be at least --limit-request-bytes (%s)", f.uploadBytes.String(), f.requestBytes.String())
	case f.guard.Rate < 0 || f.guard.Burst < 0 || f.guard.MaxConcurrent < 0 || f.guard.MaxQueued < 0 || f.guard.QueueWait < 0 || f.guard.RequestTimeout < 0:
		return errors.New("--limit-* settings must not be negative")
	case f.tracing.SampleRatio < 0 || f.tracing.SampleRatio > 1:
		return fmt.Errorf("--tracing-sample-ratio must be between 0 and 1, got %v", f.tracing.SampleRatio)
	case f.research.MaxSteps < 0 || f.research.MaxTokens < 0 || f.research.Timeout < 0 || f.research.MaxConcurrent < 0:
		return errors.New("--research-* settings must not be negative (0: the default)")
	case f.answer.URL != "" && f.answer.Model == "":
		return errors.New("--answer-model is required with --answer-url")
	case f.answer.Timeout < 0:
		return errors.New("--answer-timeout must not be negative")
	}
	return nil
}

func newServeCmd(g *globalFlags) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the search and index APIs over gRPC and HTTP/JSON, with a search page",
		Long: `Serve opens the data directory and answers cari.v1.SearchService and
cari.v1.IndexService over gRPC (--grpc-addr), with grpc.health.v1.Health and
server reflection, and the same API as HTTP/JSON (--http-addr), with
/openapi.json, /metrics, /healthz and a search page at /.

With API keys configured (--auth-keys-file, CARI_AUTH_SEARCH_KEYS,
CARI_AUTH_ADMIN_KEYS), every call needs one: search keys may call
SearchService, admin keys IndexService too. Without keys, serve listens on
loopback addresses only, unless --insecure-public is given.

Every flag can also be set in a YAML config file (--config) or a CARI_*
environment variable; "cari config print" shows the result.

On SIGINT or SIGTERM it stops taking new requests, lets in-flight ones
finish (up to --shutdown-timeout) and closes the index cleanly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := configuration.Load(cmd.Flags(), os.Environ())
			if err != nil {
				return err
			}
			log, err := g.logger()
			if err != nil {
				return err
			}
			if len(cfg.UnknownEnv) > 0 {
				log.Warn("ignoring unknown environment variables; see cari config print", "names", strings.Join(cfg.UnknownEnv, ","))
			}
			return serve(cmd.Context(), &f, log)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// serve runs the server until ctx ends (SIGINT or SIGTERM), then shuts it
// down gracefully.
func serve(ctx context.Context, f *serveFlags, log *slog.Logger) error {
	if err := f.check(); err != nil {
		return err
	}
	keys, err := server.Keys(f.keysFile, f.keyLists)
	if err != nil {
		return err
	}
	f.guard.Keys = keys
	guard, err := server.NewGuard(f.guard)
	if err != nil {
		return err
	}
	grpcLis, httpLis, err := server.ListenBoth(f.grpcAddr, f.httpAddr, guard.HasKeys() || f.insecurePublic)
	if err != nil {
		return listenError(err)
	}
	defer grpcLis.Close()
	if httpLis != nil {
		defer httpLis.Close()
	}

	if f.stack.storage.kind == "local" && !catalog.HasIndex(f.stack.dataDir) {
		log.Warn("no index in the data directory: serving an empty one there; fill it with cari index, cari crawl or IndexService", "data", f.stack.dataDir)
	}
	f.stack.serveAddr = grpcLis.Addr().String()
	srv, st, err := newServer(ctx, f, guard, log)
	if err != nil {
		return err
	}
	defer st.Close()
	stats, _ := st.Index.Stats(ctx) // names the serving generation, whichever store
	attrs := []any{"grpc_addr", grpcLis.Addr().String(), "data", f.stack.dataDir, "generation", stats.Generation, "api_keys", len(keys)}
	if httpLis != nil {
		attrs = append(attrs, "http_addr", httpLis.Addr().String())
	}
	log.Info("serving", attrs...)
	if err := srv.ServeUntil(ctx, grpcLis, httpLis, f.shutdown); err != nil {
		return err
	}
	return st.Close()
}

// listenError names the flag of the address server.ListenBoth failed on,
// and what to do when it refused to expose a server without keys.
func listenError(err error) error {
	var le *server.ListenError
	flag := "--grpc-addr"
	if errors.As(err, &le) && le.HTTP {
		flag = "--http-addr"
	}
	if exposed := (*server.ExposureError)(nil); errors.As(err, &exposed) {
		return fmt.Errorf("%s %w: configure keys (--auth-keys-file, %s, %s) or pass --insecure-public", flag, exposed, envName("auth-search-keys"), envName("auth-admin-keys"))
	}
	return fmt.Errorf("%s: %w", flag, errors.Unwrap(err))
}

// newServer opens the data directory's stack and builds the server on it,
// as f says; cari serve serves it, cari mcp calls its HTTP side in-process.
func newServer(ctx context.Context, f *serveFlags, guard *server.Guard, log *slog.Logger) (*server.Server, *stack, error) {
	var err error
	if f.liveCrawl.AllowedNetworks, err = crawler.ParseNetworks("--livecrawl-allow-network", f.liveNetworks); err != nil {
		return nil, nil, err
	}
	tracing, err := server.NewTracing(ctx, f.tracing)
	if err != nil {
		return nil, nil, err
	}
	f.stack.models = embeddings.NewShared()
	st, err := openStack(ctx, f.stack, log)
	if err != nil {
		return nil, nil, err
	}
	if err := rerank.Check(ctx, st.Reranker); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("--reranker %s: %w", f.stack.rerank.Kind, err)
	}
	// The stores load the language models on first use; a server loads
	// them now, beside its start-up, so that no request waits for them.
	go analysis.NewDetector()

	opts := server.Options{
		Searcher:      st.Searcher,
		Store:         st.Index,
		StoreName:     st.StoreName,
		Indexing:      st.Indexing,
		Logger:        log,
		MaxRecvBytes:  int(f.requestBytes),
		MaxSendBytes:  int(f.sendBytes),
		MaxNumResults: f.numResults,
		Keepalive:     f.keepalive,
		Guard:         guard,
		Metrics:       server.NewMetrics(),
		Tracing:       tracing,
		Crawl:         f.crawl,
		Reindex:       reindexOptions(st, f),
		HTTP:          f.http,
		Answer:        f.answer,
		URLTemplate:   f.urlTemplate,
		LiveCrawl:     f.liveCrawl,
	}
	opts.Crawl.StateDir, opts.Crawl.MinHostDelay = filepath.Join(st.Dir, "crawl"), noneIfZero(f.crawlMinDelay)
	opts.Research, opts.Research.Dir = f.research, filepath.Join(f.stack.dataDir, "research")
	opts.Collections = collections.Serving(st, f.stack.options(log))
	opts.HTTP.MaxBodyBytes, opts.HTTP.MaxUploadBytes, opts.HTTP.NoMetrics = int64(f.requestBytes), int64(f.uploadBytes), !f.metrics
	if f.web {
		if opts.HTTP.Web, err = server.Web(web.Dist()); err != nil {
			st.Close()
			return nil, nil, err
		}
	}
	srv, err := server.New(opts)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return srv, st, nil
}
