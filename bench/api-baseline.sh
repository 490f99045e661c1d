#!/usr/bin/env bash
# The baseline `vectort-bench api` compares with: FastAPI + uvicorn + python-jose.
#   bench/api-baseline.sh install   create the venv and install the pinned packages from PyPI; prints them
#   bench/api-baseline.sh path      print the venv's python, or exit 1 when it is not installed
# The venv lives in the git-ignored .build so nothing of it is committed; API_BASELINE_VENV moves it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${API_BASELINE_VENV:-$root/.build/api-baseline-venv}
# Pinned so runs compare like with like.
specs=(fastapi==0.115.12 "uvicorn[standard]==0.34.2" "python-jose[cryptography]==3.4.0")

installed() { "$venv/bin/python" -c 'import fastapi, uvicorn, jose; print("fastapi", fastapi.__version__, "uvicorn", uvicorn.__version__, "python-jose", jose.__version__)' 2>/dev/null; }

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
        echo "api baseline: not installed; run bench/api-baseline.sh install" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: bench/api-baseline.sh install|path" >&2
    exit 2
    ;;
esac
