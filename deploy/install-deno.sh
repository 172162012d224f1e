#!/usr/bin/env bash
# The second install path, for hosts that run `deno` itself instead of the compiled binary:
# the same unit (deploy/corescope-perf.service), with ExecStart running
#   deno run --frozen --cached-only <the printed grants> /opt/corescope-perf/main.ts --config CONFIG
# from a read-only DENO_DIR prepared here. Needs root.
#
#   bash deploy/install-deno.sh [--root DIR] [--config /etc/corescope-perf/config.json]
#                               [--launcher PATH]
#
# --root installs into another root file system (a container image); the config must already
# be at DIR/CONFIG (the grants are computed from it). --launcher also writes PATH (inside the
# root): a POSIX sh script that runs the same command line, for a container's entrypoint.
# DENO names the deno executable to install (default: the one on PATH, else the pinned one
# npx fetches from the npm registry). The grants come NUL-separated into an array and are
# quoted for systemd and sh alike: nothing in a path can split a flag or reach a shell.
set -euo pipefail
cd "$(dirname "$0")/.."
root=""
config=/etc/corescope-perf/config.json
launcher=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --launcher) launcher=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "install-deno.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
deno=${DENO:-$(command -v deno || true)}
if [ -z "$deno" ] && command -v npx >/dev/null 2>&1; then
  # The pinned Deno from the npm registry, as the README's commands use it.
  deno=$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())' 2>/dev/null || true)
fi
if [ -z "$deno" ] || [ ! -x "$deno" ]; then
  echo "install-deno.sh: no deno found: put deno on PATH, set DENO=/path/to/deno, or install Node.js and npm (npx fetches Deno 2.9.6)" >&2
  exit 2
fi
app=/opt/corescope-perf
[ -f "$root$config" ] || { echo "install-deno.sh: $root$config does not exist: install the config first" >&2; exit 2; }

# The grants for this config, NUL-separated (a bad value exits 2 naming its key).
exec {asked}< <("$deno" run --allow-read --allow-env main.ts permissions --print0 --config "$root$config")
pid=$!
mapfile -d '' -t grants <&"$asked"
exec {asked}<&-
wait "$pid" || exit $?

mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system"
install -D -m 0755 "$deno" "$root/usr/local/bin/deno"
rm -rf "$root$app"
mkdir -p "$root$app"
install -m 0644 main.ts deno.json deno.lock "$root$app/"
# src/ and its folders, the TypeScript modules only.
(cd src && find . -name '*.ts' -exec install -D -m 0644 {} "$root$app/src/{}" \;)
# The npm packages and the type-checked, transpiled code, cached once; read-only afterwards.
DENO_DIR="$root$app/deno-dir" "$deno" cache --frozen "$root$app/main.ts" >/dev/null
chmod -R a+rX "$root$app"

# The config's own grant names it as this host sees it; inside the root it is $config.
for i in "${!grants[@]}"; do grants[i]=${grants[i]//"$root$config"/"$config"}; done
port=8080
for g in "${grants[@]}"; do
  case "$g" in --allow-net=*:*) port=${g##*:} ;; esac
done
mapfile -t v8 < deploy/v8-flags
cmd=(/usr/local/bin/deno run --frozen --cached-only "${v8[@]}" "${grants[@]}" "$app/main.ts"
  --config "$config")

# systemd's command-line quoting: each word in double quotes, \ and " escaped, and its
# specifiers (%) and variables ($) doubled.
sdquote() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//%/%%}
  s=${s//\$/\$\$}
  printf '"%s"' "$s"
}
# sh's: each word in single quotes, a single quote as '\''.
shquote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
run=""
for w in "${cmd[@]}"; do run+="${run:+ }$(sdquote "$w")"; done

unit="$root/etc/systemd/system/corescope-perf.service"
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    ExecStart=*)
      printf 'Environment=DENO_DIR=%s DENO_NO_UPDATE_CHECK=1\n' "$app/deno-dir"
      printf 'ExecStart=%s\n' "$run" ;;
    ExecStartPost=*) printf 'ExecStartPost=%s %s\n' "$run" "$(sdquote wait-ready)" ;;
    SocketBindAllow=*) printf 'SocketBindAllow=tcp:%s\n' "$port" ;;
    *) printf '%s\n' "$line" ;;
  esac
done < deploy/corescope-perf.service > "$unit"
echo "install-deno.sh: installed $unit"

if [ -n "$launcher" ]; then
  {
    echo "#!/bin/sh"
    echo "# corescope-perf under the grants its config needs (computed when it was installed)."
    echo "# Arguments pass through: \`$(basename "$launcher") check\`, \`... wait-ready\`."
    echo "export DENO_DIR=$(shquote "$app/deno-dir") DENO_NO_UPDATE_CHECK=1"
    printf 'exec'
    for w in "${cmd[@]}"; do printf ' %s' "$(shquote "$w")"; done
    printf ' "$@"\n'
  } > "$root$launcher"
  chmod 0755 "$root$launcher"
  echo "install-deno.sh: wrote $root$launcher"
fi
