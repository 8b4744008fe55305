#!/usr/bin/python3
"""Peers of cari bench on the same documents and queries, with the same top k:
SQLite FTS5 and Xapian (BM25) on a BEIR corpus, FAISS flat and HNSW on the
vectors cari bench wrote (--ann, the CARIANN1 layout of
scripts/ann_faiss_bench.py). Every search runs one query at a time on one
thread after a warm-up, over --reps passes, as cari bench times its own; the
per-query figures include Python's call overhead (a few microseconds), and
FAISS also reports its own batch loop without it.

Indexes live in --workdir and are built only when absent there, so that runs
interleaved with cari bench measure searches on the same indexes; a run that
builds reports the build figures. Prints one JSON object per peer.

Needs python3 (sqlite3 with FTS5), and for the others Debian's python3-xapian,
python3-faiss and python3-numpy; a peer whose module is missing is reported
as skipped.

usage: bench_peers.py --corpus C --queries Q [--ann A] --workdir DIR
"""

import argparse
import json
import os
import resource
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fts5_bench import STOP, TOKEN  # noqa: E402  the query terms FTS5 is given in bench-keyword.sh


def read_jsonl(path):
    import gzip
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def du(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def timed(run, n, warmup, reps):
    """Latency figures of run(i) for i in 0..n-1, reps passes after warmup calls."""
    for i in range(warmup):
        run(i % n)
    lat = []
    for _ in range(reps):
        for i in range(n):
            t0 = time.perf_counter()
            run(i)
            lat.append(time.perf_counter() - t0)
    lat.sort()
    mean = sum(lat) / len(lat)
    return {"queries": n, "reps": reps, "p50_ms": percentile(lat, 50) * 1e3, "p99_ms": percentile(lat, 99) * 1e3,
            "mean_ms": mean * 1e3, "qps": 1 / mean}


def percentile(sorted_values, p):
    """The nearest-rank percentile p (0 to 100), as cari bench computes its own."""
    i = -(-p * len(sorted_values) // 100) - 1
    return sorted_values[max(0, min(len(sorted_values) - 1, i))]


def build(out, path, index):
    """Builds the index at path when it is absent, with index(tmp_path) returning
    the documents it indexed, and adds the build figures to out."""
    if os.path.exists(path):
        return
    before = rss()
    t0 = time.perf_counter()
    n = index(path + ".tmp")
    os.rename(path + ".tmp", path)
    s = time.perf_counter() - t0
    out.update(index_seconds=s, docs=n, docs_per_second=n / s, build_rss_delta_bytes=rss() - before)


def body(d):
    return (d.get("title") or "") + "\n" + (d.get("text") or "")


def terms(text):
    return [t for t in (w.lower() for w in TOKEN.findall(text)) if t not in STOP]


def fts5(args, queries):
    path = os.path.join(args.workdir, "fts5.db")
    out = {"peer": "sqlite-fts5", "version": sqlite3.sqlite_version}

    def index(tmp):
        db = sqlite3.connect(tmp)
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("CREATE VIRTUAL TABLE d USING fts5(id UNINDEXED, body, tokenize='porter unicode61 remove_diacritics 2')")
        n = 0
        for d in read_jsonl(args.corpus):
            db.execute("INSERT INTO d(id, body) VALUES (?, ?)", (d["_id"], body(d)))
            n += 1
        db.commit()
        db.close()
        return n
    build(out, path, index)
    before = rss()
    db = sqlite3.connect(path)
    match = []
    for q in queries:
        ts = terms(q)
        match.append(" OR ".join('"%s"' % t.replace('"', '""') for t in ts) if ts else None)
    sql = "SELECT id, bm25(d) FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT ?"

    def run(i):
        if match[i]:
            db.execute(sql, (match[i], args.k)).fetchall()
    out.update(timed(run, len(queries), args.warmup, args.reps))
    out.update(disk_bytes=du(path), rss_delta_bytes=rss() - before)
    return out


def xapian_peer(args, queries):
    import xapian
    path = os.path.join(args.workdir, "xapian")
    out = {"peer": "xapian", "version": xapian.version_string()}
    stem = xapian.Stem("english")
    stopper = xapian.SimpleStopper()
    for w in STOP:
        stopper.add(w)

    def index(tmp):
        db = xapian.WritableDatabase(tmp, xapian.DB_CREATE_OR_OVERWRITE)
        tg = xapian.TermGenerator()
        tg.set_stemmer(stem)
        tg.set_stopper(stopper)
        n = 0
        for d in read_jsonl(args.corpus):
            doc = xapian.Document()
            tg.set_document(doc)
            tg.index_text(body(d))
            doc.set_data(d["_id"])
            db.add_document(doc)
            n += 1
        db.commit()
        db.close()
        return n
    build(out, path, index)
    before = rss()
    db = xapian.Database(path)
    qp = xapian.QueryParser()
    qp.set_database(db)
    qp.set_stemmer(stem)
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_stopper(stopper)
    qp.set_default_op(xapian.Query.OP_OR)
    enq = xapian.Enquire(db)
    enq.set_weighting_scheme(xapian.BM25Weight())
    parsed = [qp.parse_query(" ".join(terms(q))) for q in queries]

    def run(i):
        enq.set_query(parsed[i])
        [m.document.get_data() for m in enq.get_mset(0, args.k)]
    out.update(timed(run, len(queries), args.warmup, args.reps))
    out.update(disk_bytes=du(path), rss_delta_bytes=rss() - before)
    return out


def faiss_peers(args, flat=True, hnsw=True):
    import faiss
    from ann_faiss_bench import read_set, recall
    base, queries, _, true_sims = read_set(args.ann)
    k = args.k
    rows = []
    faiss.omp_set_num_threads(1)

    def search_rows(index, name, extra):
        index.search(queries[: max(1, len(queries) // 10)], k)
        t0 = time.perf_counter()
        _, found = index.search(queries, k)
        batch = (time.perf_counter() - t0) / len(queries)
        r = {"peer": name, "vectors": int(base.shape[0]), **extra,
             "recall@10": recall(found, base, queries, true_sims, k), "batch_mean_ms": batch * 1e3}
        r.update(timed(lambda i: index.search(queries[i:i + 1], k), len(queries), args.warmup, args.reps))
        return r

    if flat:
        before = rss()
        index = faiss.IndexFlatIP(base.shape[1])
        index.add(base)
        rows.append(search_rows(index, "faiss-flat", {"rss_delta_bytes": rss() - before}))
        del index
    if not hnsw:
        return rows

    path = os.path.join(args.workdir, f"faiss-hnsw{args.m}.index")
    extra = {"M": args.m, "efConstruction": args.ef_construction}
    before = rss()
    if os.path.exists(path):
        hnsw = faiss.read_index(path)
    else:
        faiss.omp_set_num_threads(os.cpu_count())
        hnsw = faiss.IndexHNSWFlat(base.shape[1], args.m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = args.ef_construction
        t0 = time.perf_counter()
        hnsw.add(base)
        extra.update(build_seconds=time.perf_counter() - t0, build_threads=faiss.omp_get_max_threads())
        faiss.omp_set_num_threads(1)
        faiss.write_index(hnsw, path)
    extra.update(rss_delta_bytes=rss() - before, disk_bytes=du(path))
    for ef in [int(x) for x in args.ef.split(",")]:
        hnsw.hnsw.efSearch = ef
        rows.append(search_rows(hnsw, f"faiss-hnsw{args.m}", dict(extra, efSearch=ef)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--ann", help="CARIANN1 vector file written by cari bench --ann")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--peers", default="fts5,xapian,faiss")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--max-queries", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef", default="16,32,64,128,256")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    queries = [q["text"] for q in read_jsonl(args.queries)][: args.max_queries]
    runs = {"fts5": lambda: [fts5(args, queries)], "xapian": lambda: [xapian_peer(args, queries)],
            "faiss": lambda: faiss_peers(args), "faiss-flat": lambda: faiss_peers(args, hnsw=False),
            "faiss-hnsw": lambda: faiss_peers(args, flat=False)}
    for name in args.peers.split(","):
        if name not in runs:
            sys.exit(f"--peers: unknown peer {name!r} (want fts5, xapian, faiss, faiss-flat or faiss-hnsw)")
        if name.startswith("faiss") and not args.ann:
            print(json.dumps({"peer": name, "skipped": "no --ann vector file"}), flush=True)
            continue
        try:
            rows = runs[name]()
        except ImportError as e:
            pkg = name.split("-")[0]
            rows = [{"peer": name, "skipped": f"{e}: install Debian's python3-{pkg} (scripts/bench.sh does as root)"}]
        for r in rows:
            print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
