#!/usr/bin/env bash
# Runs every benchmark against the release build and prints their comparisons.
#   bench/run.sh [ipc|startup|memory|ledger|generate|build|edit|webhook|deploy|api]...   (default: all ten)
# The callgrind benchmarks need their own builds: bench/instructions.sh, bench/generate-instructions.sh,
# bench/ledger-instructions.sh.
# Each benchmark measures its own floor or baseline in the same run; see vectort-bench --help.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${VECTORT_BIN_DIR:-$root/.build/release}
for tool in vectortd vectort-bench; do
    if [[ ! -x $bin/$tool ]]; then
        echo "bench: $bin/$tool is missing; run 'make release' (or 'swift build -c release') first" >&2
        exit 1
    fi
done
export VECTORT_BIN_DIR=$bin
# generate compares with LiteLLM's proxy when bench/litellm.sh install has put it in place.
export VECTORT_LITELLM=${VECTORT_LITELLM:-$("$root/bench/litellm.sh" path 2>/dev/null || true)}
# webhook compares with FastAPI + uvicorn + stripe when bench/webhook-baseline.sh install has put it in place.
export VECTORT_WEBHOOK_BASELINE=${VECTORT_WEBHOOK_BASELINE:-$("$root/bench/webhook-baseline.sh" path 2>/dev/null || true)}
# api compares with FastAPI + uvicorn + python-jose when bench/api-baseline.sh install has put it in place.
export VECTORT_API_BASELINE=${VECTORT_API_BASELINE:-$("$root/bench/api-baseline.sh" path 2>/dev/null || true)}
benches=("$@")
[[ ${#benches[@]} -gt 0 ]] || benches=(ipc startup memory ledger generate build edit webhook deploy api)
for name in "${benches[@]}"; do
    echo "== vectort-bench $name"
    "$bin/vectort-bench" "$name"
    echo
done
