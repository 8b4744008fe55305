#!/bin/sh
# Writes expected.json: the figures of the reference scorer, shared/datasets/eval/score_run.py,
# for run.trec against qrels.tsv, graded and --binary. Run from anywhere (go generate does):
#   sh testdata/expected.sh
set -eu
cd "$(dirname "$0")"
scorer=../../../shared/datasets/eval/score_run.py
python=${PYTHON:-/usr/bin/python3}
"$python" - "$scorer" >expected.json <<'PY'
import json, subprocess, sys

def score(*flags):
    out = subprocess.run([sys.executable, sys.argv[1], "run.trec", "qrels.tsv", "--per-query", "--json", *flags],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    per_query = {}
    for line in out[:-1]:
        qid, *metrics = line.split("\t")
        per_query[qid] = {k: float(v) for k, v in (m.split("=") for m in metrics)}
    return {"summary": json.loads(out[-1]), "per_query": per_query}

json.dump({
    "comment": "score_run.py run.trec qrels.tsv [--binary] --per-query --json, via testdata/expected.sh; "
               "summary figures are exact, per-query figures are printed to 4 decimals",
    "python": sys.version.split()[0],
    "graded": score(),
    "binary": score("--binary"),
}, sys.stdout, indent=1)
print()
PY
