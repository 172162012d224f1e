#!/bin/sh
# Builds the corescope-perf container image with podman, no build step on the network: the
# base image is a Debian root file system (debootstrap, cached under
# /var/cache/corescope-perf as the real-systemd test caches it) imported with `podman import`,
# or BASE=an image you already have; Deno, the code and its cached npm packages are prepared
# on this host by deploy/install-deno.sh --root and copied in, with a run script that starts
# the service under exactly the grants its config needs.
#
#   sh deploy/container/build.sh [--config FILE] [--tag NAME]
#
# Needs root, podman (and, without BASE, debootstrap). DENO as for install-deno.sh.
set -eu
cd "$(dirname "$0")/../.."
config=deploy/container/config.json
tag=localhost/corescope-perf:latest
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
base=${BASE:-localhost/corescope-perf-base:bookworm}
if ! podman image exists "$base"; then
  rootfs=${CORESCOPE_ROOTFS_CACHE:-/var/cache/corescope-perf}/bookworm
  mkdir -p "$(dirname "$rootfs")"
  (
    flock 9
    if [ ! -x "$rootfs/bin/sh" ]; then
      echo "build.sh: building the bookworm root file system (cached at $rootfs)" >&2
      rm -rf "$rootfs.tmp"
      debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$rootfs.tmp" \
        http://deb.debian.org/debian >/dev/null
      mv "$rootfs.tmp" "$rootfs"
    fi
  ) 9>"$rootfs.lock"
  tar -C "$rootfs" -c . | podman import - "$base" >/dev/null
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/root/etc/corescope-perf"
install -m 0644 "$config" "$stage/root/etc/corescope-perf/config.json"
bash deploy/install-deno.sh --root "$stage/root" --config /etc/corescope-perf/config.json \
  --launcher /etc/corescope-perf/run.sh >/dev/null
rm -rf "$stage/root/etc/systemd"
cp deploy/container/Containerfile "$stage/Containerfile"
podman build --network none --build-arg "BASE=$base" -t "$tag" -f "$stage/Containerfile" "$stage" >/dev/null
echo "build.sh: built $tag"
