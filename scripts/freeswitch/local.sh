#!/usr/bin/env bash
# The integration specs against a real FreeSWITCH 1.10.12 built from source, no Docker needed:
#   1. builds FreeSWITCH from ../shared/freeswitch/ (next to the clone) into CRM_ROUTER_FS_HOME, or
#      reuses what an earlier run built there (build.sh skips finished steps: seconds);
#   2. starts it on a copy of scripts/freeswitch/conf/ with runtime folders of its own, loopback only;
#   3. runs the integration specs against it, each socket mode on its own, and prints per mode how
#      many specs passed, failed and were skipped;
#   4. shuts it down (also on failure or Ctrl-C) and exits with the specs' status.
#
#   scripts/freeswitch/local.sh                 all of spec/integration/routing.spec.ts
#   scripts/freeswitch/local.sh --grep busy     only the specs matching busy (in both modes); other
#                                               arguments go to mocha
#
# Environment:
#   CRM_ROUTER_SHARED          the shared folder (default: ../shared beside the clone)
#   CRM_ROUTER_FS_HOME         where FreeSWITCH is built and kept between runs
#                              (default /var/tmp/crm-router-freeswitch)
#   CRM_ROUTER_FS_PORT_OFFSET  added to every port (event socket 8021, SIP 5090/5092 (+5094 unused), router 8084,
#                              RTP 16384-32768 shrunk to a slice) to run beside another FreeSWITCH (default 0)
#   CRM_ROUTER_FS_KEEP=1       keep the runtime folder (configuration, freeswitch.log) after a passing run
#
# Exit status: the specs' (0 = every mode passed); 2 = cannot start (ports taken, FreeSWITCH did not
# come up, build failed); 3 = no ../shared/freeswitch/ here (a user's clone): nothing was run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

NO_SHARED=3
CANNOT_START=2
SHARED=${CRM_ROUTER_SHARED:-$ROOT/../shared}
FS_HOME=${CRM_ROUTER_FS_HOME:-/var/tmp/crm-router-freeswitch}
OFFSET=${CRM_ROUTER_FS_PORT_OFFSET:-0}
SPECS=(spec/integration/routing.spec.ts)
# `--grep X` narrows each mode's run (mocha takes one --grep: the mode's and X are joined); other
# arguments go to mocha as they are.
GREP=""
MOCHA_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --grep|-g) GREP=${2:?--grep needs a pattern}; shift 2 ;;
    *) MOCHA_ARGS+=("$1"); shift ;;
  esac
done

say() { printf '\n=== %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if [ ! -x "$SHARED/freeswitch/build.sh" ]; then
  echo "local.sh: no FreeSWITCH sources at $SHARED/freeswitch/ (build.sh and the tarballs; a clone" >&2
  echo "  outside this project's machines has none): the real-FreeSWITCH suite was NOT run." >&2
  echo "  Use scripts/freeswitch/run.sh (Docker) instead, or set CRM_ROUTER_SHARED." >&2
  exit "$NO_SHARED"
fi
if ! [[ $OFFSET =~ ^[0-9]+$ ]] || [ "$OFFSET" -gt 20000 ]; then
  echo "local.sh: CRM_ROUTER_FS_PORT_OFFSET=$OFFSET: expected a number from 0 to 20000" >&2
  exit "$CANNOT_START"
fi

ESL_PORT=$((8021 + OFFSET))
ROUTER_PORT=$((8084 + OFFSET))
PSTN_PORT=$((5090 + OFFSET))
CARRIER_PORT=$((5092 + OFFSET))
DEAD_PORT=$((5094 + OFFSET))
# With an offset, RTP gets a slice of its own: 2000 ports, enough for the 200-call spec's ~400 media
# streams (two ports each), starting where no default run's range would overlap much.
if [ "$OFFSET" -eq 0 ]; then RTP_START=16384 RTP_END=32768; else RTP_START=$((33000 + (OFFSET % 15) * 2000)) RTP_END=$((RTP_START + 1999)); fi

busy_port() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$ESL_PORT" "$ROUTER_PORT"; do
  if busy_port "$port"; then
    echo "local.sh: something already listens on 127.0.0.1:$port (another FreeSWITCH or router);" >&2
    echo "  stop it, or run beside it with CRM_ROUTER_FS_PORT_OFFSET=<n>." >&2
    exit "$CANNOT_START"
  fi
done

# ---------------------------------------------------------------- 1. build (or reuse)
say "FreeSWITCH from $SHARED/freeswitch into $FS_HOME"
t_build=$(now)
mkdir -p "$FS_HOME"
# One build at a time per folder: two runs building into the same folder would spoil each other.
exec 9>"$FS_HOME/.local-sh.lock"
flock 9
if ! "$SHARED/freeswitch/build.sh" "$FS_HOME"; then
  echo "local.sh: building FreeSWITCH failed (logs: $FS_HOME/build-logs/)" >&2
  exit "$CANNOT_START"
fi
flock -u 9
build_s=$(since "$t_build")
FS_BIN=$FS_HOME/fs/bin

# ---------------------------------------------------------------- 2. start on a copy of conf/
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/crm-router-fs.XXXXXX")
mkdir -p "$RUN_DIR/log" "$RUN_DIR/db" "$RUN_DIR/run"
cp -R scripts/freeswitch/conf "$RUN_DIR/conf"
set_var() { # name value: rewrite one `set` line of the copy's vars.xml
  sed -i "s|data=\"$1=[^\"]*\"|data=\"$1=$2\"|" "$RUN_DIR/conf/vars.xml"
  grep -q "data=\"$1=$2\"" "$RUN_DIR/conf/vars.xml" || { echo "local.sh: vars.xml has no $1" >&2; exit "$CANNOT_START"; }
}
set_var crm_event_socket_port "$ESL_PORT"
set_var crm_router_socket "127.0.0.1:$ROUTER_PORT"
set_var crm_pstn_sip_port "$PSTN_PORT"
set_var crm_carrier_sip_port "$CARRIER_PORT"
set_var crm_dead_sip_port "$DEAD_PORT"
set_var crm_rtp_start_port "$RTP_START"
set_var crm_rtp_end_port "$RTP_END"

fs_cli() { "$FS_BIN/fs_cli" -H 127.0.0.1 -P "$ESL_PORT" -p ClueCon -x "$1"; }
FS_PID=""
SPECS_PID=""
kill_tree() { # pid: that process and everything it started, children first
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill -TERM "$1" 2>/dev/null || true
}
stop_freeswitch() {
  [ -n "$FS_PID" ] || return 0
  if kill -0 "$FS_PID" 2>/dev/null; then
    fs_cli "fsctl shutdown" >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do kill -0 "$FS_PID" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$FS_PID" 2>/dev/null; then
      echo "local.sh: FreeSWITCH $FS_PID did not stop within 10 s; killing it" >&2
      kill -KILL "$FS_PID" 2>/dev/null || true
    fi
  fi
  FS_PID=""
}
status=$CANNOT_START
finish() {
  local code=$?
  trap - EXIT INT TERM
  [ -z "$SPECS_PID" ] || kill_tree "$SPECS_PID"
  stop_freeswitch
  [ "$status" -ne 0 ] || code=0
  if [ "$code" -ne 0 ] || [ "${CRM_ROUTER_FS_KEEP:-}" = 1 ]; then
    echo "local.sh: FreeSWITCH's configuration and log are kept in $RUN_DIR (log/freeswitch.log)" >&2
  else
    rm -rf "$RUN_DIR"
  fi
  exit "$code"
}
trap finish EXIT
trap 'echo "local.sh: interrupted" >&2; status=130; exit 130' INT TERM

say "Starting FreeSWITCH (event socket 127.0.0.1:$ESL_PORT, SIP $PSTN_PORT/$CARRIER_PORT, router $ROUTER_PORT)"
t_start=$(now)
# -ncwait: returns once FreeSWITCH is ready (or has failed). Loopback only: every port in conf/ is 127.0.0.1.
# -np: without it FreeSWITCH makes itself SCHED_FIFO (realtime); saturated by 200 calls at once it then
# starves the test process (router, CRM and driver), whose accepts came 10 s late on 2 shared cores.
if ! "$FS_BIN/freeswitch" -np -ncwait -nonat -nonatmap -conf "$RUN_DIR/conf" -log "$RUN_DIR/log" \
     -db "$RUN_DIR/db" -run "$RUN_DIR/run" >"$RUN_DIR/log/start.out" 2>&1; then
  cat "$RUN_DIR/log/start.out" >&2
  echo "local.sh: FreeSWITCH did not start" >&2
  exit "$CANNOT_START"
fi
FS_PID=$(cat "$RUN_DIR/run/freeswitch.pid")
ready=""
for _ in $(seq 1 50); do
  if fs_cli "sofia status gateway pstn" 2>/dev/null | grep -q 'Name.*pstn'; then ready=1; break; fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  echo "local.sh: FreeSWITCH started but its gateway pstn never showed up; its log:" >&2
  tail -50 "$RUN_DIR/log/freeswitch.log" >&2 || true
  exit "$CANNOT_START"
fi
VERSION=$(fs_cli version | tr -d '\r' | grep -m1 'FreeSWITCH Version' || true)
start_s=$(since "$t_start")
echo "$VERSION (pid $FS_PID, started in ${start_s} s; runtime folder $RUN_DIR)"

# ---------------------------------------------------------------- 3. the specs, one socket mode at a time
status=0
summary=()
for mode in sync async; do
  say "Integration specs, $mode socket mode, against $VERSION"
  t_mode=$(now)
  out=$RUN_DIR/log/mocha-$mode.out
  mode_status=0
  # In the background, waited for: a signal to this script then runs its trap at once (bash runs traps
  # only between foreground commands), which ends the specs and FreeSWITCH with it.
  (
    CRM_ROUTER_FREESWITCH=127.0.0.1:$ESL_PORT CRM_ROUTER_LISTEN=127.0.0.1:$ROUTER_PORT \
      npx mocha --no-config --node-option import=tsx --extension ts --timeout 20000 --exit \
      --grep "\\($mode socket mode\\)${GREP:+.*($GREP)}" "${SPECS[@]}" ${MOCHA_ARGS[@]+"${MOCHA_ARGS[@]}"} 2>&1 | tee "$out"
    exit "${PIPESTATUS[0]}"
  ) &
  SPECS_PID=$!
  wait "$SPECS_PID" || mode_status=$?
  SPECS_PID=""
  count() { grep -Eo "^ +[0-9]+ $1" "$out" | grep -Eo '[0-9]+' | tail -1 || true; }
  passed=$(count passing); failed=$(count failing); pending=$(count pending)
  passed=${passed:-0} failed=${failed:-0} pending=${pending:-0}
  # Nothing ran is a failure too: a grep or a harness that matched no spec must not pass for green.
  if [ "$mode_status" -eq 0 ] && [ "$passed" -eq 0 ]; then mode_status=1; fi
  [ "$mode_status" -eq 0 ] || status=1
  summary+=("$(printf '%-5s mode: %3s passed, %3s failed, %3s pending (%s s)%s' "$mode" "$passed" "$failed" "$pending" "$(since "$t_mode")" "$([ "$mode_status" -eq 0 ] || echo ' FAILED')")")
done

stop_freeswitch
say "Real FreeSWITCH suite: $VERSION"
echo "build/reuse ${build_s} s, start ${start_s} s"
printf '%s\n' "${summary[@]}"
if [ "$status" -ne 0 ]; then
  echo "Failures above; why a call failed: $RUN_DIR/log/freeswitch.log (FreeSWITCH) and the mocha output beside it."
fi
exit "$status"
