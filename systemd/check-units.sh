#!/usr/bin/env bash
# Lints the systemd units and reports their exposure score.
#
#   systemd/check-units.sh PATH/TO/vectortd PATH/TO/vectortctl
#
# `systemd-analyze verify` insists that ExecStart=/ExecReload= binaries exist and are
# executable, so the units are copied to a temporary directory with /usr/bin/vectortd and
# /usr/bin/vectortctl replaced by the given paths. Then:
#   1. systemd-analyze verify --man=no vectortd.socket vectortd.service  (must print nothing)
#   2. systemd-analyze security --offline=true --threshold=15 vectortd.service  (score <= 1.5)
#   3. sysusers.d and tmpfiles.d snippets applied to a throwaway --root
# Prints "exposure: N.N" and exits non-zero on any failure.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 PATH/TO/vectortd PATH/TO/vectortctl" >&2
    exit 64
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
threshold=15

unit_path() {
    local path
    path=$(realpath -e -- "$1") || { echo "check-units: $1 does not exist" >&2; exit 1; }
    [[ -x $path ]] || { echo "check-units: $path is not executable" >&2; exit 1; }
    # Unit files treat % as a specifier and split on spaces: escape and quote.
    path=${path//\\/\\\\}
    path=${path//%/%%}
    printf '"%s"' "$path"
}
daemon=$(unit_path "$1")
ctl=$(unit_path "$2")

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
cp "$here/vectortd.socket" "$here/vectortd.service" "$work/"
# Replace only the command itself, keeping its arguments (e.g. "reload --wait").
rewritten=$work/vectortd.service.new
while IFS= read -r line || [[ -n $line ]]; do
    case $line in
        "ExecStart=/usr/bin/vectortd" | "ExecStart=/usr/bin/vectortd "*)
            line="ExecStart=$daemon${line#ExecStart=/usr/bin/vectortd}" ;;
        "ExecReload=/usr/bin/vectortctl" | "ExecReload=/usr/bin/vectortctl "*)
            line="ExecReload=$ctl${line#ExecReload=/usr/bin/vectortctl}" ;;
    esac
    printf '%s\n' "$line"
done <"$work/vectortd.service" >"$rewritten"
mv "$rewritten" "$work/vectortd.service"
if grep -q '^Exec[A-Za-z]*=.*/usr/bin/vectort' "$work/vectortd.service"; then
    echo "check-units: a /usr/bin/vectort* command was not rewritten" >&2
    exit 1
fi

status=0

echo "== systemd-analyze verify --man=no vectortd.socket vectortd.service"
if ! output=$(cd "$work" && systemd-analyze verify --man=no vectortd.socket vectortd.service 2>&1); then
    status=1
fi
if [[ -n $output ]]; then
    printf '%s\n' "$output"
    status=1
fi
[[ $status -eq 0 ]] && echo "ok"

echo "== systemd-analyze security --offline=true --threshold=$threshold vectortd.service"
if ! output=$(cd "$work" && systemd-analyze security --offline=true --threshold="$threshold" --no-pager vectortd.service 2>&1); then
    printf '%s\n' "$output" | grep -v '^✓' || true
    status=1
fi
score=$(printf '%s\n' "$output" | sed -n 's/.*Overall exposure level for vectortd\.service: \([0-9.]*\).*/\1/p')
if [[ -z $score ]]; then
    printf '%s\n' "$output"
    echo "check-units: no exposure score in the output" >&2
    status=1
else
    echo "exposure: $score"
    echo "threshold: $(( threshold / 10 )).$(( threshold % 10 ))"
fi

echo "== sysusers.d/vectortd.conf"
root=$work/sysroot
mkdir -p "$root/etc"
if output=$(systemd-sysusers --root="$root" - <"$here/sysusers.d/vectortd.conf" 2>&1) \
    && grep -q '^vectortd:' "$root/etc/passwd" && grep -q '^vectortd-admin:.*vectortd' "$root/etc/group"; then
    echo "ok"
else
    printf '%s\n' "$output"
    status=1
fi

echo "== tmpfiles.d/vectortd.conf"
if [[ $(id -u) -eq 0 ]]; then
    if output=$(systemd-tmpfiles --root="$root" --create - <"$here/tmpfiles.d/vectortd.conf" 2>&1) \
        && [[ -d $root/etc/credstore ]]; then
        echo "ok"
    else
        printf '%s\n' "$output"
        status=1
    fi
else
    echo "skipped (needs root to create root-owned directories)"
fi

exit "$status"
