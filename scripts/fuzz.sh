#!/usr/bin/env bash
# Runs each fuzz target (PKG:FUNC arguments) for $FUZZTIME from its corpus in
# testdata/fuzz. A real finding writes a failing input and fails the run.
# Go 1.26's fuzzing coordinator can also end a run whose -fuzztime expired
# with a bare "context deadline exceeded" while a worker is mid-call
# (golang/go#75804, fixed in Go 1.27): no input is written, and that alone
# is not a finding, so such a run is tried again (three tries in all) before
# it counts. The race lands while a worker minimizes a new input, so
# minimizing is bounded by a count of calls rather than 5 s of them: large
# inputs (FuzzWARC's WARC files) kept workers minimizing across the deadline.
set -uo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-1m}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
  pkg=${t%%:*} fn=${t##*:}
  for try in 1 2 3; do
    echo "== $fn ($pkg), $FUZZTIME"
    if "$GO" test "$pkg" -run '^$' -fuzz "^$fn\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 50x 2>&1 | tee "$log"; then
      break
    fi
    if [ "$try" -lt 3 ] && grep -q '^    context deadline exceeded$' "$log" && ! grep -q 'Failing input written' "$log"; then
      echo "fuzz: $fn ended on the -fuzztime deadline race (golang/go#75804), not a finding; trying again"
      continue
    fi
    exit 1
  done
done
