#!/usr/bin/env bash
# Instructions per Ping and per GetBalance in vectortd, against a baseline commit, under callgrind.
#   bench/instructions.sh [BASE_COMMIT [MEASURED_COMMIT]] [-- vectort-bench instructions options]
# BASE_COMMIT defaults to 265d442, the commit before the hostile-clients issue (14);
# MEASURED_COMMIT to HEAD. Both are checked out into temporary worktrees, so what is measured is
# exactly a commit, whatever the working tree holds.
#
# valgrind 3.19 cannot run Swift's async main, so both daemons are release builds with a
# synchronous main (-DVECTORT_SYNC_MAIN; the baseline's main.swift is replaced by this tree's)
# and without debug info (valgrind cannot read Swift 6's). The builds go to .build-base and
# .build-callgrind, kept between runs, so only the first run pays the two release builds (about
# 9 minutes each on 2 cores).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=265d442
measured=HEAD
if [[ $# -gt 0 && $1 != -- ]]; then base=$1; shift; fi
if [[ $# -gt 0 && $1 != -- ]]; then measured=$1; shift; fi
[[ ${1:-} == -- ]] && shift
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }

worktrees=()
binaries=$(mktemp -d /tmp/vectort-callgrind.XXXXXX)
cleanup() {
    for w in "${worktrees[@]}"; do git -C "$root" worktree remove --force "$w" >/dev/null 2>&1 || true; done
    rm -rf "$binaries"
}
trap cleanup EXIT

# checkout COMMIT -> prints the worktree path, with this tree's synchronous main in place.
checkout() {
    local tree
    tree=$(mktemp -d /tmp/vectort-tree.XXXXXX)
    git -C "$root" worktree add --detach "$tree" "$1" >/dev/null
    cp "$root/Sources/vectortd/main.swift" "$tree/Sources/vectortd/main.swift"
    echo "$tree"
}

build() { # tree scratch products...
    local tree=$1 scratch=$2
    shift 2
    for product in "$@"; do
        swift build -c release --package-path "$tree" --scratch-path "$scratch" --product "$product" \
            -Xswiftc -DVECTORT_SYNC_MAIN 2>&1 | tail -1
    done
}

measured_tree=$(checkout "$measured"); worktrees+=("$measured_tree")
echo "== building $measured ($(git -C "$root" rev-parse --short "$measured")) in .build-callgrind"
build "$measured_tree" "$root/.build-callgrind" vectortd vectort-bench
base_tree=$(checkout "$base"); worktrees+=("$base_tree")
echo "== building the baseline $base in .build-base"
build "$base_tree" "$root/.build-base" vectortd

objcopy --strip-debug "$root/.build-callgrind/release/vectortd" "$binaries/vectortd"
objcopy --strip-debug "$root/.build-base/release/vectortd" "$binaries/vectortd-base"
VECTORT_BIN_DIR="$root/.build-callgrind/release" "$root/.build-callgrind/release/vectort-bench" instructions \
    --base "$binaries/vectortd-base" --daemon "$binaries/vectortd" "$@"
