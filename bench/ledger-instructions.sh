#!/usr/bin/env bash
# Instructions per durable hold or settle in vectortd's writer thread, against SQLite writing the
# same rows (the floor), under callgrind.
#   bench/ledger-instructions.sh [COMMIT] [-- vectort-bench ledger-instructions options]
# COMMIT defaults to HEAD and is checked out into a temporary worktree. Builds: see
# callgrind-build.sh (.build-callgrind).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/callgrind-build.sh"
run_measured ledger-instructions "$@"
