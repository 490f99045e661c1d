#!/usr/bin/env bash
# Instructions per streamed chunk and fixed per generation in vectortd, against a bare relay of
# the same stream (the floor), under callgrind.
#   bench/generate-instructions.sh [COMMIT] [-- vectort-bench generate-instructions options]
# COMMIT defaults to HEAD and is checked out into a temporary worktree. Builds: see
# callgrind-build.sh (.build-callgrind).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/callgrind-build.sh"
run_measured generate-instructions "$@"
