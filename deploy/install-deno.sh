#!/bin/sh
# The second install path, for hosts that run `deno` itself instead of the compiled binary:
# the same unit (deploy/corescope-perf.service), with ExecStart running
#   deno run --frozen --cached-only <the printed grants> /opt/corescope-perf/main.ts --config CONFIG
# from a read-only DENO_DIR prepared here. Needs root.
#
#   sh deploy/install-deno.sh [--root DIR] [--config /etc/corescope-perf/config.json]
#
# --root installs into another root file system (a container image); the config must already
# be at DIR/CONFIG (the grants are computed from it). DENO names the deno executable to install
# (default: the one on PATH, else the pinned one npx fetches from the npm registry).
set -eu
cd "$(dirname "$0")/.."
root=""
config=/etc/corescope-perf/config.json
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
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

# The grants for this config, as seen from inside the root (paths without the DIR prefix).
flags=$("$deno" run --allow-read --allow-env main.ts permissions --config "$root$config" |
  sed "s#$root/#/#g" | tr '\n' ' ')
v8=$(tr '\n' ' ' < deploy/v8-flags)
# The one port the unit lets it bind: the configured one (the net grant names HOST:PORT).
port=$(echo "$flags" | tr ' ' '\n' | sed -n 's#^--allow-net=.*:\([0-9][0-9]*\)$#\1#p')
run="/usr/local/bin/deno run --frozen --cached-only $v8$flags$app/main.ts --config $config"
sed -e "s#^ExecStart=.*#Environment=DENO_DIR=$app/deno-dir DENO_NO_UPDATE_CHECK=1\nExecStart=$run#" \
  -e "s#^ExecStartPost=.*#ExecStartPost=$run wait-ready#" \
  -e "s#^SocketBindAllow=.*#SocketBindAllow=tcp:${port:-8080}#" \
  deploy/corescope-perf.service > "$root/etc/systemd/system/corescope-perf.service"
echo "install-deno.sh: installed $root/etc/systemd/system/corescope-perf.service"
