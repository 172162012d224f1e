#!/bin/sh
# The image's entrypoint. The container starts as root with three capabilities (compose:
# cap_drop ALL; cap_add DAC_READ_SEARCH, SETUID, SETGID) and no-new-privileges. setpriv makes
# it uid/gid 65534 with no supplementary groups, keeping CAP_DAC_READ_SEARCH alone (read any
# file, write none: for the ingestor's root-owned 0600 stats file) as an ambient capability, so
# the service runs unprivileged with that one capability under Docker and podman alike (Docker
# gives a non-root user no ambient capabilities of its own). Started as non-root already, it
# runs the service as it is. Arguments pass through: `entrypoint.sh check`, `... wait-ready`.
uid=
while read -r key real _; do
  if [ "$key" = "Uid:" ]; then uid=$real; break; fi
done < /proc/self/status
if [ "$uid" != 0 ]; then exec /etc/corescope-perf/run.sh "$@"; fi
exec /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups \
  --inh-caps=-all,+dac_read_search --ambient-caps=-all,+dac_read_search \
  -- /etc/corescope-perf/run.sh "$@"
