#!/bin/sh
# `deno task start`: runs main.ts under exactly the flags `main.ts permissions` prints for the
# same arguments, so what is tested is what runs. Arguments pass through to both.
set -eu
cd "$(dirname "$0")/.."
flags=$(deno run --allow-read --allow-env main.ts permissions "$@")
# V8 tuning, not a grant: small young-generation semispaces keep RSS low and flat under load.
flags="$flags
$(cat deploy/v8-flags)"
# One flag per line; split on newlines only, so paths keep their spaces.
IFS='
'
# shellcheck disable=SC2086
exec deno run $flags main.ts "$@"
