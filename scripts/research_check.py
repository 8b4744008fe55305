#!/usr/bin/env python3
"""Checks Cari's Research API on a real chat model.

Start a model server with tool calls and cari serve on it, e.g. vLLM with Qwen3:

    vllm serve Qwen/Qwen3-8B --enable-auto-tool-choice --tool-call-parser hermes --max-model-len 32768
    cari serve --data data --answer-url http://127.0.0.1:8000/v1 --answer-model Qwen/Qwen3-8B

(or Ollama: `ollama pull qwen3:8b`, then --answer-url http://127.0.0.1:11434/v1 --answer-model
qwen3:8b), then run

    CARI_URL=http://127.0.0.1:7701 CARI_KEY=your-search-key scripts/research_check.py "Why do volcanoes erupt?"

It creates two tasks, a report and a JSON object for a small schema, follows each until it
finishes, prints what the agent did (searches, pages read) and its output, and exits 1 unless
both completed: the report citing at least one source by number and ending with its sources,
the object valid for the schema. Only the Python standard library is needed.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

URL = os.environ.get("CARI_URL", "http://127.0.0.1:7701").rstrip("/")
KEY = os.environ.get("CARI_KEY", "")
TIMEOUT = float(os.environ.get("CARI_RESEARCH_TIMEOUT", "900"))
SCHEMA = {
    "type": "object",
    "required": ["answer", "sources"],
    "properties": {
        "answer": {"type": "string"},
        "sources": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "additionalProperties": False,
}


def call(method, path, body=None):
    req = urllib.request.Request(URL + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if KEY:
        req.add_header("x-api-key", KEY)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')}")


def run(instructions, schema=None):
    body = {"instructions": instructions, "model": "exa-research"}
    if schema:
        body["outputSchema"] = schema
    task = call("POST", "/research/v1", body)
    rid = task["researchId"]
    print(f"task {rid}: {task['status']}")
    deadline = time.time() + TIMEOUT
    while task["status"] in ("pending", "running"):
        if time.time() > deadline:
            sys.exit(f"task {rid} still {task['status']} after {TIMEOUT:.0f}s")
        time.sleep(2)
        task = call("GET", f"/research/v1/{rid}?events=true")
    for ev in task.get("events", []):
        op = ev.get("data") or {}
        if op.get("type") == "search":
            print(f"  search {op['query']!r}: {len(op['results'])} results")
        elif op.get("type") == "crawl":
            print(f"  read {op['result']['url']}")
        elif op.get("type") == "think":
            print(f"  think: {op['content'][:120]!r}")
    print(f"task {rid}: {task['status']} {task.get('error', '')}")
    print(json.dumps(task.get("costDollars"), indent=1))
    return task


def main():
    instructions = sys.argv[1] if len(sys.argv) > 1 else "What do the documents say about volcanoes? Compare at least two sources."
    ok = True
    report = run(instructions)
    content = (report.get("output") or {}).get("content", "")
    print(content)
    if report["status"] != "completed" or "## Sources" not in content:
        print("FAIL: want a completed report citing its sources")
        ok = False
    obj = run(instructions + " Answer in one sentence and list the urls of your sources.", SCHEMA)
    parsed = (obj.get("output") or {}).get("parsed")
    print(json.dumps(parsed, indent=1))
    if obj["status"] != "completed" or not isinstance(parsed, dict) or not parsed.get("sources"):
        print("FAIL: want a completed JSON object with sources")
        ok = False
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
