#!/usr/bin/env bash
# `deno task start [flags]`: runs main.ts under exactly the flags `main.ts permissions` prints
# for the same arguments, so what is tested is what runs. Arguments pass through.
# --help, --version and `permissions` need no grant and run as they are; `check` and
# `wait-ready` run under the service's own grants. The grants come NUL-separated into an
# array: nothing in a path or address can split one flag into two.
set -euo pipefail
# The repository root, without spawning dirname.
case "$0" in */*) cd "${0%/*}/.." ;; *) cd .. ;; esac
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
# The grants depend on the arguments, the environment variables the config reads, the config
# file (--config) and the code that computes them: with all of those the same, the last answer
# is reused from the user's cache and one Deno process starts, not two. sha256sum is the one
# program run on the way to Deno: each costs milliseconds of a start.
printf -v said '%q ' "$@" "${CORESCOPE_INGESTOR_STATS-<unset>}" "${CORESCOPE_PERF_API_KEY:+set}"
# The config file's bytes (the one file an argument names whose bytes change the grants);
# never the stats file or the database, which change every second and can be gigabytes.
named=() next=
for a in "$@"; do
  f=
  case "$a" in
    --config=*) f=${a#--config=} ;;
    *) [ "$next" = config ] && f=$a ;;
  esac
  next=; [ "$a" = --config ] && next=config
  [ -n "$f" ] && [ -f "$f" ] && [ -r "$f" ] && named+=("$f")
done
# One line per input: what was said (stdin), the config file, the code. The whole text is the
# key, kept in the cache file beside the grants; the file's name is a digest of it.
# (No here-strings: an older bash writes those to a temporary file, and /tmp may be read-only.)
sums=$(printf '%s' "$said" | sha256sum -- - "${named[@]}" main.ts deno.json src/app/config.ts \
  src/app/permissions.ts src/base/paths.ts src/inputs/proc_io.ts 2>/dev/null) || sums=
key= rest=$sums
while [ -n "$rest" ]; do
  key+=${rest:0:8}
  case "$rest" in *$'\n'*) rest=${rest#*$'\n'} ;; *) rest= ;; esac
done
cache=${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/corescope-perf/grants
flags=()
if [ -n "$sums" ] && [ -f "$cache/$key" ] && [ -O "$cache/$key" ]; then
  mapfile -d '' -t flags < "$cache/$key"
  # The key first, then only what `permissions` ever prints: anything else, and the file is
  # not used.
  if [ "${flags[0]-}" = "$sums" ]; then
    flags=("${flags[@]:1}")
    for f in "${flags[@]}"; do
      [[ $f =~ ^--allow-(read|net|env)=[^[:cntrl:]]+$|^--allow-sys=statfs$ ]] || { flags=(); break; }
    done
  else
    flags=()
  fi
fi
if [ ${#flags[@]} -eq 0 ]; then
  # A bad flag or config makes `permissions` print the problem and exit 2: stop there.
  exec {grants}< <(deno run --allow-read --allow-env main.ts permissions --print0 "$@")
  asked=$!
  mapfile -d '' -t flags <&"$grants"
  exec {grants}<&-
  wait "$asked" || exit $?
  if [ -n "$sums" ] && mkdir -p -m 0700 "$cache" 2>/dev/null; then
    tmp=$(mktemp "$cache/.$key.XXXXXX" 2>/dev/null) &&
      printf '%s\0' "$sums" "${flags[@]}" > "$tmp" && mv -f "$tmp" "$cache/$key" || rm -f "${tmp:-}"
  fi
fi
# V8 tuning, not a grant: small young-generation semispaces keep RSS low and flat under load.
mapfile -t v8 < deploy/v8-flags
exec deno run "${flags[@]}" "${v8[@]}" main.ts "${sub[@]}" "$@"
