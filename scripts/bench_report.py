#!/usr/bin/python3
"""Markdown tables of a scripts/bench.sh run: Cari's figures per corpus and
Cari beside SQLite FTS5, Xapian and FAISS, as medians over the rounds, with
Cari/peer ratios taken within each round (the two measured minutes apart on
the same machine) and then the median of those.

usage: bench_report.py RESULTS_DIR CORPUS...
"""

import glob
import json
import os
import statistics
import sys

GENERATED = "generated passages (SciFact term statistics)"
LABELS = {"scifact": "SciFact", "pydocs": "Python docs"}


def label(name):
    if name in LABELS:
        return LABELS[name]
    n = name[3:].replace("k", ",000").replace("m", ",000,000")
    return f"{n} generated*"


def rounds(results, name):
    """[(cari report, {peer key: row})] per round, in round order."""
    out = []
    for path in sorted(glob.glob(os.path.join(results, f"{name}.cari.*.json")),
                       key=lambda p: int(p.rsplit(".", 2)[-2])):
        r = path.rsplit(".", 2)[-2]
        with open(path) as f:
            text = f.read().strip()
        if not text:
            continue
        cari = json.loads(text)
        peers = {}
        ppath = os.path.join(results, f"{name}.peers.{r}.jsonl")
        if os.path.exists(ppath):
            with open(ppath) as f:
                for line in f:
                    row = json.loads(line)
                    key = row["peer"] + (f"/ef{row['efSearch']}" if "efSearch" in row else "")
                    peers[key] = row
        out.append((cari, peers))
    return out


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def search(cari, mode):
    for s in cari.get("searches", []):
        if s["mode"] == mode:
            return s
    return None


def fmt(v, digits=2):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(num, den):
    return num / den if num is not None and den else None


def cheapest_hnsw(peers, target=0.95):
    """The FAISS HNSW row of least p50 reaching the target recall."""
    if target is None:
        return None
    ok = [r for k, r in peers.items() if k.startswith("faiss-hnsw") and r.get("recall@10", 0) >= target]
    return min(ok, key=lambda r: r["p50_ms"]) if ok else None


def hnsw_cell(rows):
    """efSearch, recall, p50 (batch mean) of per-round FAISS rows."""
    if not rows[0]:
        return "does not reach it"
    h = rows[0]
    return (f"{h['efSearch']}, {h['recall@10']:.3f}, {fmt(med([r.get('p50_ms') for r in rows]), 3)} "
            f"({fmt(med([r.get('batch_mean_ms') for r in rows]), 3)})")


def latency_table(data):
    modes = ["keyword", "vector", "hybrid", "rerank", "keyword-index", "vector-index"]
    print("| corpus | documents | passages | " + " | ".join(modes) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in modes) + " |")
    for name, rs in data:
        c = rs[0][0]
        cells = []
        for m in modes:
            p50 = med([(search(c, m) or {}).get("p50_ms") for c, _ in rs])
            p99 = med([(search(c, m) or {}).get("p99_ms") for c, _ in rs])
            cells.append("-" if p50 is None else f"{fmt(p50, 3)} / {fmt(p99, 2)}")
        print(f"| {label(name)} | {c['documents']:,} | {c['passages']:,} | " + " | ".join(cells) + " |")


def throughput_table(data):
    modes = ["keyword", "vector", "hybrid", "rerank"]
    print("| corpus | " + " | ".join(f"{m} q/s 1 thread / parallel (threads)" for m in modes) + " |")
    print("| --- | " + " | ".join("---" for _ in modes) + " |")
    for name, rs in data:
        cells = []
        for m in modes:
            q1 = med([(search(c, m) or {}).get("qps") for c, _ in rs])
            qn = med([(search(c, m) or {}).get("parallel_qps") for c, _ in rs])
            workers = (search(rs[0][0], m) or {}).get("workers")
            cells.append("-" if q1 is None else f"{fmt(q1)} / {fmt(qn)} ({workers})")
        print(f"| {label(name)} | " + " | ".join(cells) + " |")


def keyword_table(data):
    print("| corpus | Cari keyword-index p50 (p99) | Cari keyword search p50 | FTS5 p50 (p99) | Xapian p50 (p99) "
          "| Cari-index / FTS5 | Cari-index / Xapian | Cari search / FTS5 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, rs in data:
        ki = [search(c, "keyword-index") or {} for c, _ in rs]
        ks = [search(c, "keyword") or {} for c, _ in rs]
        ft = [p.get("sqlite-fts5", {}) for _, p in rs]
        xa = [p.get("xapian", {}) for _, p in rs]

        def pair(rows):
            p50 = med([r.get("p50_ms") for r in rows])
            return "-" if p50 is None else f"{fmt(p50, 3)} ({fmt(med([r.get('p99_ms') for r in rows]), 2)})"
        rf = med([ratio(a.get("p50_ms"), b.get("p50_ms")) for a, b in zip(ki, ft)])
        rx = med([ratio(a.get("p50_ms"), b.get("p50_ms")) for a, b in zip(ki, xa)])
        rs_ = med([ratio(a.get("p50_ms"), b.get("p50_ms")) for a, b in zip(ks, ft)])
        print(f"| {label(name)} | {pair(ki)} | {fmt(med([r.get('p50_ms') for r in ks]), 3)} | {pair(ft)} | {pair(xa)} "
              f"| {fmt(rf)} | {fmt(rx)} | {fmt(rs_)} |")


def vector_table(data):
    print("| corpus | vectors | Cari vector-index recall@10, p50 ms | FAISS HNSW32 at Cari's recall: efSearch, recall, "
          "p50 ms (batch mean) | FAISS HNSW32 cheapest at recall >= 0.95 | FAISS HNSW32 best recall (efSearch) "
          "| FAISS flat p50 ms | Cari / FAISS HNSW at equal recall | Cari / FAISS HNSW at >= 0.95 | Cari / FAISS flat |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, rs in data:
        vi = [search(c, "vector-index") or {} for c, _ in rs]
        recall = med([c.get("vector_recall@10") for c, _ in rs])
        # Equal recall: FAISS's cheapest setting within 0.005 of Cari's.
        eq = [cheapest_hnsw(p, None if c.get("vector_recall@10") is None else c["vector_recall@10"] - 0.005) or {}
              for c, p in rs]
        hn = [cheapest_hnsw(p) or {} for _, p in rs]
        fl = [p.get("faiss-flat", {}) for _, p in rs]
        best = [max((r for k, r in p.items() if k.startswith("faiss-hnsw") and "recall@10" in r),
                    key=lambda r: r["recall@10"], default={}) for _, p in rs]
        nvec = next((p.get("faiss-flat", {}).get("vectors") for _, p in rs if p.get("faiss-flat")), None)
        b = best[0]
        bcell = f"{b['recall@10']:.3f} ({b['efSearch']})" if b else "-"
        r = lambda xs: fmt(med([ratio(a.get("p50_ms"), b.get("p50_ms")) for a, b in zip(vi, xs)]))  # noqa: E731
        print(f"| {label(name)} | {'-' if nvec is None else f'{nvec:,}'} | {fmt(recall, 3)}, {fmt(med([x.get('p50_ms') for x in vi]), 3)} "
              f"| {hnsw_cell(eq) if b else '-'} | {hnsw_cell(hn) if b else '-'} | {bcell} | {fmt(med([x.get('p50_ms') for x in fl]), 3)} "
              f"| {r(eq)} | {r(hn)} | {r(fl)} |")


def skipped(data):
    notes = sorted({f"{label(n)}: {row['peer']}: {row['skipped']}" for n, rs in data for _, p in rs
                    for row in p.values() if "skipped" in row})
    for s in notes:
        print(f"- skipped {s}")


def index_table(data):
    print("| corpus | Cari docs/s with embedding | Cari docs/s keyword only | FTS5 docs/s | Xapian docs/s "
          "| FAISS HNSW32 build s (threads) | Cari disk MiB | FTS5 / Xapian / FAISS HNSW disk MiB "
          "| Cari RSS MiB open (peak) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    mib = lambda b: None if b is None else b / 2**20  # noqa: E731
    for name, rs in data:
        built = [c["index"] for c, _ in rs if c.get("index")]
        first = rs[0][1]
        hn = next((r for k, r in first.items() if k.startswith("faiss-hnsw")), {})
        disks = " / ".join(fmt(mib(first.get(p, {}).get("disk_bytes"))) for p in ("sqlite-fts5", "xapian")) + \
            " / " + fmt(mib(hn.get("disk_bytes")))
        print(f"| {label(name)} | {fmt(med([b.get('docs_per_second') for b in built]))} "
              f"| {fmt(med([b.get('keyword_only_docs_per_second') for b in built]))} "
              f"| {fmt(first.get('sqlite-fts5', {}).get('docs_per_second'))} | {fmt(first.get('xapian', {}).get('docs_per_second'))} "
              f"| {fmt(hn.get('build_seconds'), 1)} ({hn.get('build_threads', '-')}) | {fmt(mib(med([c['disk_bytes'] for c, _ in rs])))} | {disks} "
              f"| {fmt(mib(med([c['rss_bytes'] for c, _ in rs])))} ({fmt(mib(max(c['peak_rss_bytes'] for c, _ in rs)))}) |")


def growth_table(data):
    gen = [(n, rs) for n, rs in data if n.startswith("gen")]
    if len(gen) < 2:
        return
    (a, ra), (b, rb) = gen[0], gen[-1]
    da, db = ra[0][0]["documents"], rb[0][0]["documents"]
    print(f"\nGrowth from {label(a)} to {label(b)} passages ({db / da:.0f}x the passages), p50 latency:\n")
    print("| mode | " + label(a) + " | " + label(b) + " | growth |")
    print("| --- | --- | --- | --- |")
    for m in ["keyword", "vector", "hybrid", "rerank", "keyword-index", "vector-index"]:
        pa = med([(search(c, m) or {}).get("p50_ms") for c, _ in ra])
        pb = med([(search(c, m) or {}).get("p50_ms") for c, _ in rb])
        if pa is None or pb is None:
            continue
        print(f"| {m} | {fmt(pa, 3)} ms | {fmt(pb, 3)} ms | {pb / pa:.1f}x |")


def main(results, corpora):
    data = [(n, rounds(results, n)) for n in corpora]
    data = [(n, rs) for n, rs in data if rs]
    with open(os.path.join(results, "machine.txt")) as f:
        print("```\n" + f.read().strip() + "\n```")
    print(f"\n\\* {GENERATED}: every figure on those rows comes from generated text.\n")
    print("Search latency, ms, p50 / p99 (one query at a time, top 10; medians over the rounds):\n")
    latency_table(data)
    print("\nSearch throughput, queries/s:\n")
    throughput_table(data)
    print("\nBM25 beside SQLite FTS5 and Xapian (top 10, one thread; ratios below 1 mean Cari is faster):\n")
    keyword_table(data)
    print("\nVectors beside FAISS (top 10, one thread, recall against exact search):\n")
    vector_table(data)
    print("\nIndexing, disk and memory (the build of the first round):\n")
    index_table(data)
    growth_table(data)
    skipped(data)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
