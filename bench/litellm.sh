#!/usr/bin/env bash
# LiteLLM's proxy as the peer `vectort-bench generate` compares its own added latency to.
#   bench/litellm.sh install   create the venv and install litellm[proxy] (skipped when the version is there); prints it
#   bench/litellm.sh path      print the litellm executable, or exit 1 when it is not installed
# The venv lives in the git-ignored .build so nothing of it is committed; LITELLM_VENV moves it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${LITELLM_VENV:-$root/.build/litellm-venv}
# Pinned so runs compare like with like: the proxy changes between releases (this one will not start without a master
# key). LITELLM_SPEC overrides it, e.g. 'litellm[proxy]' for the newest.
spec=${LITELLM_SPEC:-litellm[proxy]==1.108.7}

installed() { "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null; }

case ${1:-} in
install)
    have=$(installed || true)
    if [[ -z $have || ($spec == *==* && $have != "${spec##*==}") ]]; then
        [[ -x $venv/bin/python ]] || "${PYTHON:-python3}" -m venv "$venv"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check "$spec"
    fi
    echo "litellm $(installed)"
    ;;
path)
    if [[ -x $venv/bin/litellm ]] && installed >/dev/null; then
        echo "$venv/bin/litellm"
    else
        echo "litellm: not installed; run bench/litellm.sh install" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: bench/litellm.sh install|path" >&2
    exit 2
    ;;
esac
