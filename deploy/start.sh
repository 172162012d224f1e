#!/usr/bin/env bash
# `deno task start [flags]`: runs main.ts under exactly the flags `main.ts permissions` prints
# for the same arguments, so what is tested is what runs. Arguments pass through.
# --help, --version and `permissions` need no grant and run as they are; `check` and
# `wait-ready` run under the service's own grants. The grants come NUL-separated into an
# array: nothing in a path or address can split one flag into two.
set -euo pipefail
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
sub=()
case "${1:-}" in
  check|wait-ready) sub=("$1"); shift ;;
esac
# A bad flag or config makes `permissions` print the problem and exit 2: stop there.
exec {grants}< <(deno run --allow-read --allow-env main.ts permissions --print0 "$@")
asked=$!
mapfile -d '' -t flags <&"$grants"
exec {grants}<&-
wait "$asked" || exit $?
# V8 tuning, not a grant: small young-generation semispaces keep RSS low and flat under load.
mapfile -t v8 < deploy/v8-flags
exec deno run "${flags[@]}" "${v8[@]}" main.ts "${sub[@]}" "$@"
