#!/usr/bin/env bash
# Renders every starter app of the offline `template` provider through a real daemon and
# vectortctl, and takes a screenshot of each in headless Chromium: docs/starters/<kind>.png.
#
#   make build && tools/starter-screenshots.sh [BIN_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/.build/debug}"
work="$(mktemp -d /tmp/vt-shots-XXXXXX)"
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/state" "$work/run" "$root/docs/starters"
export VECTORTD_SOCKET="$work/run/vectortd.sock"
"$bin/vectortd" --state-directory "$work/state" --runtime-directory "$work/run" \
    --socket "$VECTORTD_SOCKET" >"$work/vectortd.log" 2>&1 &
daemon=$!
"$bin/vectortctl" status --wait 20 >/dev/null

field() { python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }
user="$("$bin/vectortctl" users create starters@example.com --json | field id)"
"$bin/vectortctl" credits grant "$user" 100 --reason "starter screenshots" >/dev/null

while IFS='|' read -r kind title prompt; do
    project="$("$bin/vectortctl" projects create "$user" "$title" --json | field id)"
    "$bin/vectortctl" generate "$project" "$prompt" --json >"$work/$kind.json"
    "$bin/vectortctl" code "$project" -o "$work/$kind" >/dev/null
    chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --hide-scrollbars --user-data-dir="$work/profile-$kind" --window-size=1200,900 \
        --virtual-time-budget=2000 --screenshot="$root/docs/starters/$kind.png" \
        "file://$work/$kind/index.html" >/dev/null 2>&1
    echo "docs/starters/$kind.png: $prompt"
done <<'STARTERS'
landing|Sunrise Yoga|a website for my yoga studio
todo|Garden Jobs|a todo app for garden chores
blog|Crumb|a blog about sourdough baking
shop|Soap Works|an e-commerce site for handmade soap
dashboard|Bakery Metrics|an analytics dashboard for my bakery
STARTERS
