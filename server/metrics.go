package server

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc/codes"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// Metrics are the server's Prometheus metrics, in a registry of their own
// (no global state) that Handler serves. A nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	stages    *prometheus.HistogramVec
	results   prometheus.Histogram
	rejects   *prometheus.CounterVec
	inFlight  *prometheus.GaugeVec
	crawlDocs *prometheus.CounterVec
	crawlSkip *prometheus.CounterVec
	crawlErrs *prometheus.CounterVec
	reindexed prometheus.Counter
	// collections counts requests by the collection they were routed to.
	collections *prometheus.CounterVec

	store atomic.Pointer[IndexStore]
	guard atomic.Pointer[Guard]
}

// latencyBuckets span 0.5 ms to about 16 s, doubling.
var latencyBuckets = prometheus.ExponentialBuckets(0.0005, 2, 16)

// NewMetrics returns the server's metrics with the Go runtime and process
// collectors registered beside them.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cari_requests_total",
		Help: "Requests answered, by service, method, transport (grpc or http) and gRPC status code.",
	}, []string{"service", "method", "transport", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cari_request_duration_seconds",
		Help:    "Time from receiving a request to answering it, by service, method and transport.",
		Buckets: latencyBuckets,
	}, []string{"service", "method", "transport"})
	m.stages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cari_search_stage_duration_seconds",
		Help:    "Time each search stage took (keyword, embed, vector, fusion, contents, ...), by stage and resolved search type.",
		Buckets: latencyBuckets,
	}, []string{"stage", "type"})
	m.results = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cari_search_results",
		Help:    "Results returned per successful search.",
		Buckets: []float64{0, 1, 5, 10, 20, 50, 100},
	})
	m.rejects = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cari_rejected_requests_total",
		Help: "Requests refused before they ran, by gRPC status code: Unauthenticated, PermissionDenied, ResourceExhausted (rate limit or overload).",
	}, []string{"code"})
	m.inFlight = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cari_requests_in_flight",
		Help: "Requests being answered now, by transport.",
	}, []string{"transport"})
	m.crawlDocs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cari_crawl_pages_total",
		Help: "Pages crawled through IndexService.Crawl, by outcome (fetched or indexed).",
	}, []string{"outcome"})
	m.crawlSkip = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cari_crawl_skipped_total",
		Help: "URLs a crawl did not fetch or index, by reason.",
	}, []string{"reason"})
	m.crawlErrs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cari_crawl_errors_total",
		Help: "Crawl fetches or extractions that failed, by reason.",
	}, []string{"reason"})
	m.reindexed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cari_reindex_documents_total",
		Help: "Source documents processed by IndexService.Reindex jobs.",
	})
	m.collections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cari_collection_requests_total",
		Help: "Requests routed to a collection, by collection (its name, never an alias), service and method.",
	}, []string{"collection", "service", "method"})
	m.reg.MustRegister(m.collections)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.stages, m.results, m.rejects, m.inFlight,
		m.crawlDocs, m.crawlSkip, m.crawlErrs, m.reindexed,
		indexCollector{m},
		limitCollector{m},
	)
	return m
}

// Registry is where the metrics live, for callers that add their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// watchStore makes the index gauges report store's statistics.
func (m *Metrics) watchStore(s IndexStore) {
	if m != nil && s != nil {
		m.store.Store(&s)
	}
}

// watchGuard makes the concurrency gauges report g's limiter.
func (m *Metrics) watchGuard(g *Guard) {
	if m != nil && g != nil {
		m.guard.Store(g)
	}
}

func (m *Metrics) observe(fullMethod, transport string, code codes.Code, d time.Duration) {
	if m == nil {
		return
	}
	svc, method := serviceOf(fullMethod), methodOf(fullMethod)
	m.requests.WithLabelValues(svc, method, transport, code.String()).Inc()
	m.latency.WithLabelValues(svc, method, transport).Observe(d.Seconds())
}

func (m *Metrics) inflight(transport string, delta float64) {
	if m != nil {
		m.inFlight.WithLabelValues(transport).Add(delta)
	}
}

// routed records a request routed to collection; fullMethod is its gRPC
// method ("" outside one, as in a test).
func (m *Metrics) routed(collection, fullMethod string) {
	if m != nil && fullMethod != "" {
		m.collections.WithLabelValues(collection, serviceOf(fullMethod), methodOf(fullMethod)).Inc()
	}
}

func (m *Metrics) rejected(code codes.Code) {
	if m != nil {
		m.rejects.WithLabelValues(code.String()).Inc()
	}
}

// searched records a successful search's stage timings and result count.
func (m *Metrics) searched(resp *cariv1.SearchResponse) {
	if m == nil || resp == nil {
		return
	}
	typ := resp.GetResolvedSearchType().ShortName()
	for _, t := range resp.GetTimings() {
		m.stages.WithLabelValues(t.GetStage(), typ).Observe(t.GetDuration().AsDuration().Seconds())
	}
	m.results.Observe(float64(len(resp.GetResults())))
}

// progressWatcher turns the running totals that Crawl and Reindex stream
// into counter increments, so crawl counters need nothing from the crawler
// but the progress messages the API already defines.
type progressWatcher struct {
	m                 *Metrics
	fetched, indexed  int64
	skipped, failures map[string]int64
	reindexed         int64
}

func (m *Metrics) newProgressWatcher() *progressWatcher {
	if m == nil {
		return nil
	}
	return &progressWatcher{m: m, skipped: map[string]int64{}, failures: map[string]int64{}}
}

func (w *progressWatcher) sent(msg any) {
	if w == nil {
		return
	}
	switch p := msg.(type) {
	case *cariv1.CrawlProgress:
		w.m.crawlDocs.WithLabelValues("fetched").Add(delta(&w.fetched, p.GetFetched()))
		w.m.crawlDocs.WithLabelValues("indexed").Add(delta(&w.indexed, p.GetIndexed()))
		for reason, n := range p.GetSkipped() {
			last := w.skipped[reason]
			w.m.crawlSkip.WithLabelValues(reason).Add(delta(&last, n))
			w.skipped[reason] = last
		}
		for reason, n := range p.GetErrors() {
			last := w.failures[reason]
			w.m.crawlErrs.WithLabelValues(reason).Add(delta(&last, n))
			w.failures[reason] = last
		}
	case *cariv1.ReindexProgress:
		w.m.reindexed.Add(delta(&w.reindexed, p.GetDocumentsDone()))
	}
}

// delta returns how much a running total grew since *last and records it.
func delta(last *int64, total int64) float64 {
	if total <= *last {
		return 0
	}
	d := total - *last
	*last = total
	return float64(d)
}

// indexCollector reports the serving index's size at each scrape.
type indexCollector struct{ m *Metrics }

var (
	indexDocsDesc   = prometheus.NewDesc("cari_index_documents", "Documents in the serving index generation.", nil, nil)
	indexChunksDesc = prometheus.NewDesc("cari_index_chunks", "Chunks (passages) in the serving index generation.", nil, nil)
	indexBytesDesc  = prometheus.NewDesc("cari_index_size_bytes", "Bytes the index takes on disk, over all generations.", nil, nil)
)

func (c indexCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- indexDocsDesc
	ch <- indexChunksDesc
	ch <- indexBytesDesc
}

func (c indexCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.store.Load()
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := (*s).Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(indexDocsDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(indexDocsDesc, prometheus.GaugeValue, float64(st.Documents))
	ch <- prometheus.MustNewConstMetric(indexChunksDesc, prometheus.GaugeValue, float64(st.Chunks))
	ch <- prometheus.MustNewConstMetric(indexBytesDesc, prometheus.GaugeValue, float64(st.DiskBytes))
}

// limitCollector reports the concurrency limiter's state at each scrape.
type limitCollector struct{ m *Metrics }

var (
	slotsDesc = prometheus.NewDesc("cari_concurrency_running", "Unary requests holding a concurrency slot now.", nil, nil)
	queueDesc = prometheus.NewDesc("cari_concurrency_queued", "Requests waiting for a concurrency slot now.", nil, nil)
	limitDesc = prometheus.NewDesc("cari_concurrency_limit", "Concurrency slots in all (--limit-concurrency).", nil, nil)
)

func (c limitCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- slotsDesc
	ch <- queueDesc
	ch <- limitDesc
}

func (c limitCollector) Collect(ch chan<- prometheus.Metric) {
	g := c.m.guard.Load()
	if g == nil || g.conc == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(slotsDesc, prometheus.GaugeValue, float64(g.conc.running()))
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(g.conc.queued()))
	ch <- prometheus.MustNewConstMetric(limitDesc, prometheus.GaugeValue, float64(cap(g.conc.slots)))
}
