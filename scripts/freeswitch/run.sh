#!/usr/bin/env bash
# Runs spec/integration/routing.spec.ts against a real FreeSWITCH in Docker (scripts/freeswitch/),
# then tears the container down. Extra arguments go to mocha (e.g. --grep busy).
#   KEEP=1 scripts/freeswitch/run.sh   leaves the container running afterwards (for fs_cli)
set -euo pipefail
cd "$(dirname "$0")/../.."

COMPOSE=(docker compose -f scripts/freeswitch/docker-compose.yml)
ESL=127.0.0.1:8021
ROUTER=127.0.0.1:8084

say() { printf '\n=== %s\n' "$*"; }

if ! docker compose version >/dev/null 2>&1; then
  echo "run.sh needs Docker with the compose plugin ('docker compose version' failed)." >&2
  exit 2
fi
if ! docker info >/dev/null 2>&1; then
  echo "run.sh needs a running Docker engine ('docker info' failed)." >&2
  exit 2
fi
# The container shares the host's network: the router (in the mocha process) must be able to bind 8084,
# and nothing else may already hold FreeSWITCH's ports.
busy_port() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 8021 8084; do
  if busy_port "$port"; then
    echo "Something already listens on 127.0.0.1:$port; stop it first (8021: another FreeSWITCH, 8084: a router)." >&2
    exit 2
  fi
done

teardown() {
  if [ "${KEEP:-}" = 1 ]; then
    say "KEEP=1: FreeSWITCH left running. fs_cli: ${COMPOSE[*]} exec freeswitch fs_cli; stop: ${COMPOSE[*]} down"
  else
    say "Tearing the FreeSWITCH container down"
    "${COMPOSE[@]}" down --remove-orphans --timeout 10 >/dev/null 2>&1 || true
  fi
}
trap teardown EXIT

say "Starting FreeSWITCH (safarov/freeswitch:1.10.12, config scripts/freeswitch/conf)"
"${COMPOSE[@]}" up -d

say "Waiting for its event socket on $ESL and the gateway pstn (up to 60 s)"
ready=""
for _ in $(seq 1 60); do
  if banner=$(timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8021 && head -c 26 <&3' 2>/dev/null) \
     && [ "$banner" = "Content-Type: auth/request" ] \
     && "${COMPOSE[@]}" exec -T freeswitch fs_cli -x 'sofia status gateway pstn' 2>/dev/null | grep -q 'Name.*pstn'; then
    ready=1
    break
  fi
  sleep 1
done
if [ -z "$ready" ]; then
  echo "FreeSWITCH did not become ready; its log:" >&2
  "${COMPOSE[@]}" logs --tail 200 >&2 || true
  exit 1
fi
"${COMPOSE[@]}" exec -T freeswitch fs_cli -x version || true

say "PBX: a REAL FreeSWITCH (Docker) at $ESL; the router listens on $ROUTER"
status=0
CRM_ROUTER_FREESWITCH=$ESL CRM_ROUTER_LISTEN=$ROUTER \
  npx mocha --no-config --node-option import=tsx --extension ts --timeout 20000 --exit \
  spec/integration/routing.spec.ts "$@" || status=$?

if [ "$status" -ne 0 ]; then
  say "Specs failed against the real FreeSWITCH (exit $status); its recent log:"
  "${COMPOSE[@]}" logs --tail 300 || true
fi
say "PBX used: a REAL FreeSWITCH (Docker, safarov/freeswitch:1.10.12) at $ESL — exit $status"
exit "$status"
