#!/bin/bash
# The shipped unit under a real systemd: a minimal Debian root file system (built once with
# debootstrap and cached), booted with systemd-nspawn, the unit installed unchanged but for
# its ExecStart lines (deploy/install-deno.sh: the compiled binary cannot be built where the
# denort download is blocked), then checked as an operator would. Needs root, debootstrap
# and systemd-container; the first run builds the rootfs (about a minute), later runs take
# seconds. Prints one line per check and exits non-zero on the first failure.
#
#   bash deploy/systemd-test.sh        (or: deno task systemd-test)
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${SUITE:-bookworm}
cache=${CORESCOPE_ROOTFS_CACHE:-/var/cache/corescope-perf}/$suite
work=$(mktemp -d /var/tmp/corescope-systemd-test.XXXXXX)
nspawn_pid=""
cleanup() {
  if [ -n "$nspawn_pid" ]; then
    kill "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '%s\n' "$*"; }
fail() { say "FAIL: $*"; exit 1; }

mkdir -p "$(dirname "$cache")"
(
  flock 9 # two runs at once build the rootfs once
  if [ ! -x "$cache/lib/systemd/systemd" ]; then
    say "== building the $suite rootfs (cached at $cache)"
    rm -rf "$cache.tmp"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus "$suite" "$cache.tmp" \
      http://deb.debian.org/debian >/dev/null
    mv "$cache.tmp" "$cache"
  fi
) 9>"$cache.lock"
root=$work/root
cp -a "$cache" "$root"

say "== installing corescope-perf into the rootfs"
chroot "$root" useradd --system --no-create-home --shell /usr/sbin/nologin corescope
install -d -o root -g root "$root/etc/corescope-perf" "$root/var/lib/corescope"
cat > "$root/etc/corescope-perf/config.json" <<'JSON'
{
  "statsPath": "/tmp/corescope-ingestor-stats.json",
  "dbPath": "/var/lib/corescope/meshcore.db",
  "procIoPath": "/run/corescope-perf/self/io",
  "port": 8080
}
JSON
# A WAL database, as the ingestor leaves it.
deno eval --no-config "
  import { DatabaseSync } from 'node:sqlite';
  const db = new DatabaseSync('$root/var/lib/corescope/meshcore.db');
  db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);');
  db.close();"
chown -R 1:1 "$root/var/lib/corescope" 2>/dev/null || true
chmod -R a+rX "$root/var/lib/corescope"
DENO="$(command -v deno)" bash deploy/install-deno.sh --root "$root" >/dev/null
# The stats file, as the ingestor writes it: its user's, 0600, in the shared /tmp, with the
# fixture's fake broker passwords (none may reach the journal).
uid=$(chroot "$root" id -u corescope)
stats() {
  sed "s/2026-11-23T12:00:00Z/$(date -u +%Y-%m-%dT%H:%M:%SZ)/g" tests/fixtures/ingestor-stats.json
}

say "== booting systemd in a container"
systemd-nspawn -D "$root" -b --register=no --keep-unit --private-network -q >"$work/console" 2>&1 &
nspawn_pid=$!
inside() { nsenter -t "$leader" -m -u -i -n -p -- "$@"; }
leader=""
for _ in $(seq 1 100); do
  leader=$(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null | awk '{print $1}')
  if [ -n "$leader" ] && inside systemctl is-system-running 2>/dev/null | grep -qE 'running|degraded'; then
    break
  fi
  sleep 0.2
done
inside systemctl is-system-running >/dev/null 2>&1 || [ $? -le 1 ] || fail "systemd did not come up"
say "systemd $(inside systemctl --version | head -n 1 | awk '{print $2}') is PID 1 in the container"

stats | inside install -m 0600 -o "$uid" /dev/stdin /tmp/corescope-ingestor-stats.json
inside systemctl enable --now corescope-perf >/dev/null 2>&1 || {
  inside journalctl -u corescope-perf --no-pager | tail -n 20
  fail "systemctl enable --now"
}
get() { # GET a path on the service's port, inside the container; prints the body
  inside bash -c "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET $1 HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 && sed '1,/^\r\$/d' <&3"
}
[ "$(inside systemctl is-active corescope-perf)" = active ] || fail "not active"
say "ok: active, and ready (ExecStartPost wait-ready returned)"

io=$(get /api/perf/io)
echo "$io" | grep -q '"ioSource":"procfs"' || { inside journalctl -u corescope-perf --no-pager -o cat | grep io_source; fail "ioSource: $io"; }
say "ok: ioSource procfs"

# The disk forecast's statfs passes the unit's system call filter and the grants (not unknown):
# the 1 Hz watch's first sample after the start says so.
for _ in $(seq 1 50); do
  hz=$(get /api/healthz)
  echo "$hz" | grep -q '"diskSpace":{"freeBytes":' && break
  sleep 0.1
done
echo "$hz" | grep -qE '"disk":"(ok|low)"' && echo "$hz" | grep -q '"diskSpace":{"freeBytes":' ||
  fail "disk: $hz"
say "ok: the disk is read (statfs under SystemCallFilter= and --allow-sys=statfs)"

pid=$(inside systemctl show -p MainPID --value corescope-perf)
# The service's own counters against /proc/<MainPID>/io read from outside, back to back.
metrics=$(get /metrics)
mine=$(echo "$metrics" | awk '/^corescope_perf_io_read_syscalls_total /{print $2}')
theirs=$(inside awk '/^syscr:/{print $2}' "/proc/$pid/io")
[ -n "$mine" ] && [ -n "$theirs" ] || fail "counters: mine=$mine theirs=$theirs"
# The service samples once a second: its counter may trail the live one by one second's reads.
[ "$mine" -le "$theirs" ] && [ $((theirs - mine)) -lt 200 ] || fail "syscr $mine vs /proc/$pid/io $theirs"
say "ok: syscr $mine (service) vs $theirs (/proc/$pid/io, read after it)"

get /api/mqtt/status | grep -q 'ingest:\*\*\*\*@' || fail "mqtt/status not masked"
if inside journalctl -u corescope-perf --no-pager | grep -qE 's3cret|hunter2'; then
  fail "a password reached the journal"
fi
say "ok: no password in the journal"

sec=$(inside systemd-analyze security corescope-perf 2>/dev/null |
  sed -n 's/.*Overall exposure level for corescope-perf.service: \([0-9.]*\).*/\1/p')
say "ok: systemd-analyze security (online): $sec"
awk -v s="$sec" 'BEGIN{exit !(s <= 1.5)}' || fail "exposure $sec is above 1.5"

# SIGUSR1 makes Deno open a debugger on 127.0.0.1:9229: the unit refuses that bind.
inside systemctl kill --signal=SIGUSR1 --kill-whom=main corescope-perf
sleep 0.5
if inside grep -qiE '^ *[0-9]+: [0-9A-F]+:2405 [0-9A-F:]+ 0A ' /proc/net/tcp; then
  fail "a debugger listens on 9229 after SIGUSR1"
fi
get /api/healthz | grep -q '"ready":true' || fail "not serving after SIGUSR1"
say "ok: SIGUSR1 opens no debugger port; still serving"

# CoreScope's container layout: the stats file root's and 0600 on the data mount, read by the
# unit's own user through the drop-in's one capability.
say "== the data as CoreScope's container writes it: root's, 0600, under /srv/corescope/data"
install -d "$root/srv/corescope/data"
cp "$root/var/lib/corescope/meshcore.db" "$root/srv/corescope/data/meshcore.db"
stats | install -m 0600 -o root -g root /dev/stdin "$root/srv/corescope/data/ingestor-stats.json"
cat > "$root/etc/corescope-perf/config.json" <<'JSON'
{
  "statsPath": "/srv/corescope/data/ingestor-stats.json",
  "dbPath": "/srv/corescope/data/meshcore.db",
  "procIoPath": "/run/corescope-perf/self/io",
  "port": 8080
}
JSON
DENO="$(command -v deno)" bash deploy/install-deno.sh --root "$root" >/dev/null
install -D -m 0644 deploy/corescope-perf-root-owned-data.conf \
  "$root/etc/systemd/system/corescope-perf.service.d/root-owned-data.conf"
inside systemctl daemon-reload
inside systemctl restart corescope-perf || fail "restart with the drop-in"
stats | inside install -m 0600 -o root -g root /dev/stdin /srv/corescope/data/ingestor-stats.json
hz=$(get /api/healthz)
echo "$hz" | grep -q '"statsFile":"fresh"' || fail "root's 0600 stats file not read: $hz"
get /api/perf/io | grep -q '"ioSource":"procfs"' || fail "ioSource not procfs with the drop-in"
pid=$(inside systemctl show -p MainPID --value corescope-perf)
caps=$(inside awk '/^CapEff:/{print $2} /^Uid:/{print "uid=" $2}' "/proc/$pid/status" | tr '\n' ' ')
case "$caps" in
  "uid=0 "*) fail "runs as root: $caps" ;;
  *"0000000000000004"*) ;;
  *) fail "capabilities: $caps (want CAP_DAC_READ_SEARCH alone)" ;;
esac
say "ok: root's 0600 stats file read as a non-root user with CAP_DAC_READ_SEARCH alone ($caps)"

inside systemctl kill --signal=SIGKILL --kill-whom=main corescope-perf
for _ in $(seq 1 50); do
  new=$(inside systemctl show -p MainPID --value corescope-perf)
  [ "$new" != "$pid" ] && [ "$new" != 0 ] && [ "$(inside systemctl is-active corescope-perf)" = active ] && break
  sleep 0.2
done
if [ "$new" = "$pid" ] || [ "$new" = 0 ]; then
  inside journalctl -u corescope-perf --no-pager | tail -n 15
  inside systemctl status corescope-perf --no-pager | head -n 12
  fail "not restarted after a crash"
fi
say "ok: a crash (SIGKILL) is restarted: MainPID $pid -> $new"

start=$(date +%s%N)
inside systemctl stop corescope-perf
ms=$(( ($(date +%s%N) - start) / 1000000 ))
result=$(inside systemctl show -p Result --value corescope-perf)
status=$(inside systemctl show -p ExecMainStatus --value corescope-perf)
[ "$result" = success ] && [ "$status" = 0 ] || fail "stop: Result=$result ExecMainStatus=$status"
[ "$ms" -lt 2000 ] || fail "stop took $ms ms"
say "ok: systemctl stop drains and exits 0 in $ms ms"
inside journalctl -u corescope-perf --no-pager -o cat | grep -E 'listening|startup|draining|stopped' | sed 's/^/journal: /'
say "PASS"
