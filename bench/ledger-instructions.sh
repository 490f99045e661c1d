#!/usr/bin/env bash
# Instructions per durable hold or settle in vectortd's writer thread, against SQLite writing the
# same rows (the floor), under callgrind.
#   bench/ledger-instructions.sh [COMMIT] [-- vectort-bench ledger-instructions options]
# COMMIT defaults to HEAD and is checked out into a temporary worktree. Builds: see
# callgrind-build.sh (.build-callgrind). The floor runs `vectort-bench journal-floor` under
# callgrind, so the benchmark itself runs from a copy without debug info too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/callgrind-build.sh"
measured=HEAD
if [[ $# -gt 0 && $1 != -- ]]; then measured=$1; shift; fi
[[ ${1:-} == -- ]] && shift

tree=$(checkout "$measured"); worktrees+=("$tree")
echo "== building $measured ($(git -C "$root" rev-parse --short "$measured")) in .build-callgrind"
build "$tree" "$root/.build-callgrind" vectortd vectort-bench
daemon=$(strip_copy "$root/.build-callgrind/release/vectortd" vectortd)
bench=$(strip_copy "$root/.build-callgrind/release/vectort-bench" vectort-bench)
"$bench" ledger-instructions --daemon "$daemon" "$@"
