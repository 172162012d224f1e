#!/bin/sh
# `deno task start [flags]`: runs main.ts under exactly the flags `main.ts permissions` prints
# for the same arguments, so what is tested is what runs. Arguments pass through.
# --help, --version and `permissions` need no grant and run as they are; `check` and
# `wait-ready` run under the service's own grants.
set -eu
cd "$(dirname "$0")/.."
for a in "$@"; do
  case "$a" in
    -h|--help|-V|--version) exec deno run main.ts "$@" ;;
  esac
done
case "${1:-}" in
  permissions) exec deno run --allow-read --allow-env main.ts "$@" ;;
esac
# `check` and `wait-ready` run under the same grants as the service: ask for those without
# the subcommand, then run it.
sub=
case "${1:-}" in
  check|wait-ready) sub=$1; shift ;;
esac
# A bad flag or config makes `permissions` print the problem and exit 2: stop there.
flags=$(deno run --allow-read --allow-env main.ts permissions "$@") || exit $?
# V8 tuning, not a grant: small young-generation semispaces keep RSS low and flat under load.
flags="$flags
$(cat deploy/v8-flags)"
# One flag per line; split on newlines only, so paths keep their spaces.
IFS='
'
# shellcheck disable=SC2086
exec deno run $flags main.ts $sub "$@"
