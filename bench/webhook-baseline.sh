#!/usr/bin/env bash
# The baseline `vectort-bench webhook` compares with: FastAPI + uvicorn + the official stripe library.
#   bench/webhook-baseline.sh install   create the venv and install the pinned packages from PyPI; prints them
#   bench/webhook-baseline.sh path      print the venv's python, or exit 1 when it is not installed
# The venv lives in the git-ignored .build so nothing of it is committed; WEBHOOK_BASELINE_VENV moves it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${WEBHOOK_BASELINE_VENV:-$root/.build/webhook-baseline-venv}
# Pinned so runs compare like with like.
specs=(fastapi==0.115.12 "uvicorn[standard]==0.34.2" stripe==12.1.0)

installed() { "$venv/bin/python" -c 'import fastapi, uvicorn, stripe; print("fastapi", fastapi.__version__, "uvicorn", uvicorn.__version__, "stripe", stripe.VERSION)' 2>/dev/null; }

case ${1:-} in
install)
    if ! installed >/dev/null; then
        [[ -x $venv/bin/python ]] || "${PYTHON:-python3}" -m venv "$venv"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check "${specs[@]}"
    fi
    installed
    ;;
path)
    if installed >/dev/null; then
        echo "$venv/bin/python"
    else
        echo "webhook baseline: not installed; run bench/webhook-baseline.sh install" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: bench/webhook-baseline.sh install|path" >&2
    exit 2
    ;;
esac
