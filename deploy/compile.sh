#!/bin/sh
# `deno task compile [flags]`: builds dist/corescope-perf (or $CORESCOPE_PERF_OUT) with exactly
# the flags `main.ts permissions` prints for the same arguments; those arguments are baked in
# as the binary's defaults (e.g. --config /etc/corescope-perf/config.json).
#
# deno compile needs its runtime, denort-x86_64-unknown-linux-gnu.zip for this Deno version.
# It downloads it on first use into $DENO_DIR/dl/release/v<version>/ (DENO_DIR defaults to
# ~/.cache/deno); offline, put the zip there, or point DENORT_BIN at an unzipped denort.
# DENORT_BIN pointing at plain `deno` builds the Deno CLI with our code ignored: the output is
# checked, and deleted when it is not corescope-perf.
set -eu
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help)
    echo "usage: deno task compile [service flags, e.g. --config /etc/corescope-perf/config.json]"
    echo "builds \${CORESCOPE_PERF_OUT:-dist/corescope-perf} with the grants those flags need"
    exit 0 ;;
esac
out=${CORESCOPE_PERF_OUT:-dist/corescope-perf}
# A bad flag or config makes `permissions` print the problem and exit 2: stop there.
flags=$(deno run --allow-read --allow-env main.ts permissions "$@") || exit $?
# V8 tuning, not a grant: small young-generation semispaces keep RSS low and flat under load.
flags="$flags
$(cat deploy/v8-flags)"
IFS='
'
# shellcheck disable=SC2086
if ! deno compile --no-check=remote $flags --output "$out" main.ts "$@"; then
  unset IFS
  v=$(deno --version | sed -n 's/^deno \([0-9.]*\).*/\1/p')
  echo "compile.sh: deno compile failed. If it could not download its runtime, put" >&2
  echo "compile.sh: denort-x86_64-unknown-linux-gnu.zip (Deno $v) into" >&2
  echo "compile.sh: ${DENO_DIR:-$HOME/.cache/deno}/dl/release/v$v/, or set DENORT_BIN to an unzipped denort." >&2
  exit 1
fi
unset IFS
version=$("$out" --version 2>&1 </dev/null || true)
case "$version" in
  "corescope-perf "*) echo "compile.sh: built $out ($version)" ;;
  *)
    rm -f "$out"
    echo "compile.sh: $out is not corescope-perf: its --version printed '$(echo "$version" | head -n 1)'." >&2
    echo "compile.sh: DENORT_BIN must point at a denort runtime, not at deno; removed it." >&2
    exit 1 ;;
esac
