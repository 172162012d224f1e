#!/bin/sh
# `deno task compile [flags]`: builds dist/corescope-perf with exactly the flags
# `main.ts permissions` prints for the same arguments; those arguments are baked in as the
# binary's defaults (e.g. --config /etc/corescope-perf/config.json).
# Deno downloads its runtime (denort) for this; offline, point DENORT_BIN at a denort binary.
set -eu
cd "$(dirname "$0")/.."
out=${CORESCOPE_PERF_OUT:-dist/corescope-perf}
flags=$(deno run --allow-read --allow-env main.ts permissions "$@")
# V8 tuning, not a grant: small young-generation semispaces keep RSS low and flat under load.
flags="$flags
$(cat deploy/v8-flags)"
IFS='
'
# shellcheck disable=SC2086
exec deno compile --no-check=remote $flags --output "$out" main.ts "$@"
