#!/usr/bin/env bash
# Builds the corescope-perf container image: the service and nothing else. Its root file system
# is made here, not pulled: Deno, the code and its cached modules (deploy/install-deno.sh
# --root), the run scripts, setpriv and /bin/sh, and the shared libraries those four programs
# link, copied from this host as `ldd` lists them. `docker import` (or `podman import`) turns it
# into the image; no registry, no package manager, no network.
#
#   bash deploy/container/build.sh [--config FILE] [--tag NAME]
#
# Needs root, and docker (or podman: ENGINE=podman). DENO as for install-deno.sh: the deno on
# PATH, else the pinned one npx fetches from the npm registry (the only fetch, and only when no
# deno is installed). The default config is deploy/container/config.json; the default tag
# corescope-perf:latest, the name deploy/compose/docker-compose.override.yml runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
config=deploy/container/config.json
tag=corescope-perf:latest
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
engine=${ENGINE:-}
if [ -z "$engine" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null 2>&1; then engine=podman
  else echo "build.sh: neither docker (with its daemon running) nor podman found" >&2; exit 2
  fi
fi
for prog in setpriv ldd tar; do
  command -v "$prog" >/dev/null 2>&1 || { echo "build.sh: $prog not found" >&2; exit 2; }
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
mkdir -p "$root/etc/corescope-perf" "$root/app/data" "$root/bin" "$root/usr/bin"
install -d -m 1777 "$root/tmp"
install -m 0644 "$config" "$root/etc/corescope-perf/config.json"
bash deploy/install-deno.sh --root "$root" --config /etc/corescope-perf/config.json \
  --launcher /etc/corescope-perf/run.sh >/dev/null
rm -rf "$root/etc/systemd"
install -m 0755 "$(command -v setpriv)" "$root/usr/bin/setpriv"
install -m 0755 "$(readlink -f /bin/sh)" "$root/bin/sh"
# Each shared library (and the loader) at the path the programs ask for, as a plain file.
for prog in "$root/usr/local/bin/deno" "$root/usr/bin/setpriv" "$root/bin/sh"; do
  ldd "$prog" | grep -o '/[^ ]*' | while IFS= read -r lib; do
    [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' \
  > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
install -m 0755 deploy/container/entrypoint.sh "$root/etc/corescope-perf/entrypoint.sh"
chmod -R a+rX,go-w "$root"

tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
  "$engine" import \
    --change 'ENTRYPOINT ["/etc/corescope-perf/entrypoint.sh"]' \
    --change 'WORKDIR /' \
    --change 'EXPOSE 8080' \
    - "$tag" >/dev/null
size=$("$engine" image inspect --format '{{.Size}}' "$tag")
echo "build.sh: built $tag with $engine ($((size / 1048576)) MiB)"
