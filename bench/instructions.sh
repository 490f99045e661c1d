#!/usr/bin/env bash
# Instructions per Ping and per GetBalance in vectortd, against a baseline commit, under callgrind.
#   bench/instructions.sh [BASE_COMMIT [MEASURED_COMMIT]] [-- vectort-bench instructions options]
# BASE_COMMIT defaults to 265d442, the commit before the hostile-clients issue (14);
# MEASURED_COMMIT to HEAD. Both are checked out into temporary worktrees, so what is measured is
# exactly a commit, whatever the working tree holds. Builds: see callgrind-build.sh (.build-base
# and .build-callgrind).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/callgrind-build.sh"
base=265d442
measured=HEAD
if [[ $# -gt 0 && $1 != -- ]]; then base=$1; shift; fi
if [[ $# -gt 0 && $1 != -- ]]; then measured=$1; shift; fi
[[ ${1:-} == -- ]] && shift

measured_tree=$(checkout "$measured"); worktrees+=("$measured_tree")
echo "== building $measured ($(git -C "$root" rev-parse --short "$measured")) in .build-callgrind"
build "$measured_tree" "$root/.build-callgrind" vectortd vectort-bench
base_tree=$(checkout "$base"); worktrees+=("$base_tree")
echo "== building the baseline $base in .build-base"
build "$base_tree" "$root/.build-base" vectortd

daemon=$(strip_copy "$root/.build-callgrind/release/vectortd" vectortd)
baseline=$(strip_copy "$root/.build-base/release/vectortd" vectortd-base)
VECTORT_BIN_DIR="$root/.build-callgrind/release" "$root/.build-callgrind/release/vectort-bench" instructions \
    --base "$baseline" --daemon "$daemon" "$@"
