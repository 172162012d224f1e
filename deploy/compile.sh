#!/usr/bin/env bash
# `deno task compile [flags]`: builds dist/corescope-perf (or $CORESCOPE_PERF_OUT) with exactly
# the flags `main.ts permissions` prints for the same arguments; those arguments are baked in
# as the binary's defaults (e.g. --config /etc/corescope-perf/config.json). The grants come
# NUL-separated into an array: nothing in a path or address can split one flag into two.
#
# deno compile needs its runtime, denort-x86_64-unknown-linux-gnu.zip for this Deno version.
# It downloads it on first use into $DENO_DIR/dl/release/v<version>/ (DENO_DIR defaults to
# ~/.cache/deno); offline, put the zip there, or point DENORT_BIN at an unzipped denort.
# DENORT_BIN pointing at plain `deno` builds the Deno CLI with our code ignored: the output is
# checked, and deleted when it is not corescope-perf.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help)
    echo "usage: deno task compile [service flags, e.g. --config /etc/corescope-perf/config.json]"
    echo "builds \${CORESCOPE_PERF_OUT:-dist/corescope-perf} with the grants those flags need"
    exit 0 ;;
esac
out=${CORESCOPE_PERF_OUT:-dist/corescope-perf}
# A bad flag or config makes `permissions` print the problem and exit 2: stop there.
exec {grants}< <(deno run --allow-read --allow-env main.ts permissions --print0 "$@")
asked=$!
mapfile -d '' -t flags <&"$grants"
exec {grants}<&-
wait "$asked" || exit $?
# V8 tuning, not a grant: small young-generation semispaces keep RSS low and flat under load.
mapfile -t v8 < deploy/v8-flags
if ! deno compile --no-check=remote "${flags[@]}" "${v8[@]}" --output "$out" main.ts "$@"; then
  v=$(deno --version | sed -n 's/^deno \([0-9.]*\).*/\1/p')
  echo "compile.sh: deno compile failed. If it could not download its runtime, put" >&2
  echo "compile.sh: denort-x86_64-unknown-linux-gnu.zip (Deno $v) into" >&2
  echo "compile.sh: ${DENO_DIR:-$HOME/.cache/deno}/dl/release/v$v/, or set DENORT_BIN to an unzipped denort." >&2
  exit 1
fi
version=$("$out" --version 2>&1 </dev/null || true)
case "$version" in
  "corescope-perf "*) echo "compile.sh: built $out ($version)" ;;
  *)
    rm -f "$out"
    echo "compile.sh: $out is not corescope-perf: its --version printed '$(echo "$version" | head -n 1)'." >&2
    echo "compile.sh: DENORT_BIN must point at a denort runtime, not at deno; removed it." >&2
    exit 1 ;;
esac
