#!/bin/sh
# `deno task start`: runs main.ts under exactly the flags `main.ts permissions` prints for the
# same arguments, so what is tested is what runs. Arguments pass through to both.
set -eu
cd "$(dirname "$0")/.."
flags=$(deno run --allow-read --allow-env main.ts permissions "$@")
# One flag per line; split on newlines only, so paths keep their spaces.
IFS='
'
# shellcheck disable=SC2086
exec deno run $flags main.ts "$@"
