# Sourced by the callgrind benchmarks: release builds of a commit for valgrind 3.19.
#
# valgrind 3.19 cannot run Swift's async main, so the binaries are release builds with a
# synchronous main (-DVECTORT_SYNC_MAIN; a baseline commit's main.swift is replaced by this
# tree's) and without debug info (valgrind cannot read Swift 6's). Builds go to a scratch
# directory kept between runs, so only the first run pays a release build (about 9 minutes on
# 2 cores).
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
worktrees=()
binaries=$(mktemp -d /tmp/vectort-callgrind.XXXXXX)
cleanup() {
    for w in "${worktrees[@]}"; do git -C "$root" worktree remove --force "$w" >/dev/null 2>&1 || true; done
    rm -rf "$binaries"
}
trap cleanup EXIT

# checkout COMMIT -> prints the worktree path, with this tree's synchronous mains in place.
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

# strip BINARY NAME -> a copy without debug info in $binaries, printed.
strip_copy() {
    objcopy --strip-debug "$1" "$binaries/$2"
    echo "$binaries/$2"
}

# run_measured BENCHMARK [COMMIT] [-- options]: builds COMMIT (default HEAD) in .build-callgrind
# and runs `vectort-bench BENCHMARK` from a copy without debug info (its floors run the
# benchmark's own binary under callgrind) against that commit's vectortd.
run_measured() {
    local benchmark=$1 measured=HEAD
    shift
    if [[ $# -gt 0 && $1 != -- ]]; then measured=$1; shift; fi
    [[ ${1:-} == -- ]] && shift
    local tree daemon bench
    tree=$(checkout "$measured"); worktrees+=("$tree")
    echo "== building $measured ($(git -C "$root" rev-parse --short "$measured")) in .build-callgrind"
    build "$tree" "$root/.build-callgrind" vectortd vectort-bench
    daemon=$(strip_copy "$root/.build-callgrind/release/vectortd" vectortd)
    bench=$(strip_copy "$root/.build-callgrind/release/vectort-bench" vectort-bench)
    "$bench" "$benchmark" --daemon "$daemon" "$@"
}
