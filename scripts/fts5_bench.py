#!/usr/bin/env python3
"""Peer timing for Cari's keyword path: SQLite FTS5 (bm25, porter tokenizer) on
the same BEIR corpus and queries, one thread, top-100 per query, as
../shared/datasets/eval/bm25_baselines.py configures it. Prints one JSON line:
{"docs": N, "index_seconds": S, "queries": Q, "query_seconds": S}.

usage: fts5_bench.py CORPUS QUERIES
"""
import gzip, json, re, sqlite3, sys, time

STOP = set("""a an and are as at be but by for if in into is it no not of on or such
that the their then there these they this to was will with""".split())
TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def read_jsonl(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(corpus_path, queries_path):
    docs = read_jsonl(corpus_path)
    queries = read_jsonl(queries_path)
    db = sqlite3.connect(":memory:")
    t0 = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE d USING fts5(id UNINDEXED, body, tokenize='porter unicode61 remove_diacritics 2')")
    db.executemany("INSERT INTO d(id, body) VALUES (?, ?)",
                   ((d["_id"], (d.get("title") or "") + "\n" + (d.get("text") or "")) for d in docs))
    db.commit()
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for q in queries:
        terms = [t for t in (w.lower() for w in TOKEN.findall(q["text"])) if t not in STOP]
        if not terms:
            continue
        match = " OR ".join('"%s"' % t.replace('"', '""') for t in terms)
        db.execute("SELECT id, bm25(d) FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT 100", (match,)).fetchall()
    query_s = time.perf_counter() - t0
    print(json.dumps({"docs": len(docs), "index_seconds": index_s, "queries": len(queries), "query_seconds": query_s}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
