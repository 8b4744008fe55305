#!/usr/bin/python3
"""FAISS HNSW beside Cari's vector index, on the same vectors and queries.

Reads a .ann file written by `go run ./scripts/annvectors` (base vectors,
held-out queries and their exact top k; see store/local/hnsw/vectorset for
the layout),
builds faiss.IndexHNSWFlat (inner product on unit vectors, i.e. cosine) and
reports, for each efSearch, recall@10 against the exact answer and
single-thread query latency: the mean of one batched call (FAISS's own loop,
no Python per query) and the median of one call per query. A result counts
as correct when its similarity reaches the 10th true similarity (less 1e-5),
as in ann-benchmarks, so ties cannot lower recall; store/local/hnsw's
BenchmarkANN counts the same way.

Needs Debian's python3-faiss and python3-numpy; run with /usr/bin/python3:

    /usr/bin/python3 scripts/ann_faiss_bench.py /tmp/ann/glove-100.ann \
        --m 32 --ef-construction 200 --ef 64,128,256,512
"""

import argparse
import json
import re
import resource
import statistics
import sys
import time

import faiss
import numpy as np


def read_set(path):
    with open(path, "rb") as f:
        if f.read(8) != b"CARIANN1":
            sys.exit(f"{path}: not a CARIANN1 file")
        n, nq, dim, k = np.frombuffer(f.read(16), dtype="<u4")
        base = np.fromfile(f, dtype="<f4", count=int(n) * int(dim)).reshape(n, dim)
        queries = np.fromfile(f, dtype="<f4", count=int(nq) * int(dim)).reshape(nq, dim)
        ids = np.fromfile(f, dtype="<i4", count=int(nq) * int(k)).reshape(nq, k)
        sims = np.fromfile(f, dtype="<f4", count=int(nq) * int(k)).reshape(nq, k)
    return base, queries, ids, sims


def recall(found, base, queries, true_sims, k):
    """Share of the top k whose similarity reaches the k-th true one."""
    hits = 0
    for q in range(len(queries)):
        ids = found[q][found[q] >= 0][:k]
        s = base[ids] @ queries[q]
        hits += int(np.sum(s >= true_sims[q, k - 1] - 1e-5))
    return hits / (k * len(queries))


GO_ROW = re.compile(r"^BenchmarkANN/(?P<set>[^/]+)\.ann/(?P<index>[^/]+)/ef=(?P<ef>\d+)-\d+\s+\d+\s+(?P<rest>.*)$")
GO_BUILD = re.compile(r"^BenchmarkANN/(?P<set>[^/]+)\.ann/(?P<index>[^/]+)/build-\d+\s+\d+\s+(?P<rest>.*)$")


def go_metrics(rest):
    """{unit: value} of a Go benchmark line's metrics."""
    f = rest.split()
    return {f[i + 1]: float(f[i]) for i in range(0, len(f) - 1, 2)}


def read_go(path, set_name):
    """The query rows and builds of BenchmarkANN's output for one set."""
    rows, builds = [], {}
    with open(path) as f:
        for line in f:
            m = GO_ROW.match(line.strip())
            if m and m["set"] == set_name:
                rows.append({"index": m["index"], "efSearch": int(m["ef"]), **go_metrics(m["rest"])})
            m = GO_BUILD.match(line.strip())
            if m and m["set"] == set_name:
                builds[m["index"]] = go_metrics(m["rest"])
    return rows, builds


def cheapest(rows, key, target):
    """The row of least latency that reaches target recall, or None."""
    ok = [r for r in rows if r["recall@10"] >= target]
    return min(ok, key=lambda r: r[key]) if ok else None


def compare(go_path, set_name, faiss_rows, faiss_build, targets):
    """For each recall target, each Go index's cheapest setting beside
    FAISS's, and the latency ratios (Cari / FAISS)."""
    go_rows, builds = read_go(go_path, set_name)
    print(f"\n{set_name}: build")
    print(f"  faiss-hnsw{faiss_build['m']}: {faiss_build['build_s']} s on {faiss_build['build_threads']} threads, "
          f"{faiss_build['mem_mb']} MB resident")
    for name, b in sorted(builds.items()):
        print(f"  cari {name}: {b.get('build-s', 0):.1f} s on 1 thread, {b.get('MB', 0):.0f} MB heap")
    print(f"\n{set_name}: latency at equal recall@10 (Cari / FAISS)")
    print("  target  index    ef  recall  p50 us  mean us | FAISS ef  recall  p50 us/call  batch us | p50 ratio  mean ratio")
    for target in targets:
        fr = cheapest(faiss_rows, "batch_ns_per_query", target)
        for name in sorted({r["index"] for r in go_rows}):
            gr = cheapest([r for r in go_rows if r["index"] == name], "p50-ns", target)
            if gr is None or fr is None:
                print(f"  {target:.2f}    {name:7}  does not reach it" if gr is None else
                      f"  {target:.2f}    FAISS does not reach it")
                continue
            p50, mean = gr["p50-ns"] / 1e3, gr["ns/query"] / 1e3
            fp50, fmean = fr["p50_us_per_call"], fr["batch_ns_per_query"] / 1e3
            print(f"  {target:.2f}    {name:7} {gr['efSearch']:4}  {gr['recall@10']:.4f}  {p50:6.0f}  {mean:7.0f} | "
                  f"{fr['efSearch']:8}  {fr['recall@10']:.4f}  {fp50:11.0f}  {fmean:8.0f} | "
                  f"{p50 / fp50:9.2f}  {mean / fmean:10.2f}")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path")
    ap.add_argument("--m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef", default="16,32,64,128,256,512")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--build-threads", type=int, default=0,
                    help="OpenMP threads for the build; 0 leaves FAISS's default (all cores)")
    ap.add_argument("--passes", type=int, default=1,
                    help="timed passes over the queries; the median batch mean is reported")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--compare", metavar="GO_OUTPUT",
                    help="output of BenchmarkANN from the same run: print latency ratios at equal recall")
    ap.add_argument("--targets", default="0.95,0.97,0.99", help="recall@10 levels for --compare")
    args = ap.parse_args()

    base, queries, _, true_sims = read_set(args.path)
    k = args.k
    name = args.path.rsplit("/", 1)[-1]

    if args.build_threads:
        faiss.omp_set_num_threads(args.build_threads)
    before = rss_bytes()
    index = faiss.IndexHNSWFlat(base.shape[1], args.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = args.ef_construction
    t0 = time.perf_counter()
    index.add(base)
    build_s = time.perf_counter() - t0
    mem = rss_bytes() - before
    threads = faiss.omp_get_max_threads()
    rows = [{
        "set": name, "index": f"faiss-hnsw{args.m}", "build_s": round(build_s, 2),
        "build_threads": threads, "mem_mb": round(mem / 2**20, 1),
        "vectors": int(base.shape[0]), "efConstruction": args.ef_construction,
    }]

    faiss.omp_set_num_threads(1)
    for ef in [int(x) for x in args.ef.split(",") if x]:
        index.hnsw.efSearch = ef
        index.search(queries[:len(queries) // 10], k)  # warm up, as the Go benchmark does
        batch, lat = [], []
        for _ in range(args.passes):
            t0 = time.perf_counter()
            _, found = index.search(queries, k)
            batch.append((time.perf_counter() - t0) / len(queries) * 1e9)
            for q in range(len(queries)):
                one = queries[q:q + 1]
                t0 = time.perf_counter()
                index.search(one, k)
                lat.append(time.perf_counter() - t0)
        rows.append({
            "set": name, "index": f"faiss-hnsw{args.m}", "efSearch": ef,
            "recall@10": round(recall(found, base, queries, true_sims, k), 4),
            "batch_ns_per_query": round(statistics.median(batch)),
            "p50_us_per_call": round(statistics.median(lat) * 1e6, 1),
        })

    for r in rows:
        if args.json:
            print(json.dumps(r))
        else:
            print("  ".join(f"{k}={v}" for k, v in r.items()))
    if args.compare:
        build = dict(rows[0], m=args.m)
        compare(args.compare, name.rsplit(".", 1)[0], rows[1:], build,
                [float(t) for t in args.targets.split(",")])


if __name__ == "__main__":
    main()
