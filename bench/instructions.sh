#!/usr/bin/env bash
# Instructions per Ping and per GetBalance in vectortd, against a baseline commit, under callgrind.
#   bench/instructions.sh [BASE_COMMIT]
# BASE_COMMIT defaults to 265d442, the commit before the hostile-clients issue (14).
#
# valgrind 3.19 cannot run Swift's async main, so both daemons are release builds with a
# synchronous main (-DVECTORT_SYNC_MAIN; the baseline's main.swift is replaced by this tree's)
# and without debug info (valgrind cannot read Swift 6's): the measured tree in .build-callgrind,
# the baseline from a temporary worktree in .build-base. Both folders are kept between runs, so
# only the first run pays the two release builds (about 9 minutes each on 2 cores).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=${1:-265d442}
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }

build() { # package-path scratch-path products...
    local package=$1 scratch=$2
    shift 2
    for product in "$@"; do
        swift build -c release --package-path "$package" --scratch-path "$scratch" --product "$product" \
            -Xswiftc -DVECTORT_SYNC_MAIN 2>&1 | tail -1
    done
}

echo "== building the measured tree in .build-callgrind"
build "$root" "$root/.build-callgrind" vectortd vectort-bench

worktree=$(mktemp -d /tmp/vectort-base.XXXXXX)
trap 'git -C "$root" worktree remove --force "$worktree" >/dev/null 2>&1 || true' EXIT
git -C "$root" worktree add --detach "$worktree" "$base" >/dev/null
cp "$root/Sources/vectortd/main.swift" "$worktree/Sources/vectortd/main.swift"
echo "== building the baseline $base in .build-base"
build "$worktree" "$root/.build-base" vectortd

binaries=$(mktemp -d /tmp/vectort-callgrind.XXXXXX)
objcopy --strip-debug "$root/.build-callgrind/release/vectortd" "$binaries/vectortd"
objcopy --strip-debug "$root/.build-base/release/vectortd" "$binaries/vectortd-base"
VECTORT_BIN_DIR="$root/.build-callgrind/release" "$root/.build-callgrind/release/vectort-bench" instructions \
    --base "$binaries/vectortd-base" --daemon "$binaries/vectortd" "${@:2}"
rm -rf "$binaries"
