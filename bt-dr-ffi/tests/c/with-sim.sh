#!/bin/sh
# Runs a command against a fresh bt-dr simulator (a failover pair):
#   [BT_DR_SIM_FLAGS="--traffic-node tn-eu.example.com ..."] with-sim.sh SIM_BIN command [args...]
# BT_DR_SIM_FLAGS (optional) adds flags of the simulator (e.g. an Atlas cluster's traffic nodes).
# The simulator's JSON line is exported as BT_DR_SIM_<KEY> (BT_DR_SIM_PRIMARY_URL,
# BT_DR_SIM_CA_PEM_PATH, BT_DR_SIM_CONTROL_URL, ...; a list such as BT_DR_SIM_TRAFFIC_URLS
# comma-separated); the simulator is stopped afterwards.
set -eu
sim_bin=$1
shift
work=$(mktemp -d "${TMPDIR:-/tmp}/bt-dr-c-sim.XXXXXX")
# shellcheck disable=SC2086
"$sim_bin" --control-port 0 ${BT_DR_SIM_FLAGS:-} >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
cleanup() {
  kill "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
i=0
until grep -q '}' "$work/sim.out" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 300 ] || ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "with-sim.sh: the simulator did not start:" >&2
    cat "$work/sim.err" >&2
    exit 1
  fi
  sleep 0.1
done
# One flat JSON object of strings, lists of strings (and null): turn each "key":"value" into an
# export, a list into its comma-separated items.
exports=$(head -n 1 "$work/sim.out" | python3 -c '
import json, shlex, sys
for k, v in json.loads(sys.stdin.read()).items():
    v = ",".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v))
    print("export BT_DR_SIM_%s=%s" % (k.upper(), shlex.quote(v)))
')
eval "$exports"
mkdir -p "$work/scratch"
export BT_DR_TMP="$work/scratch"
status=0
"$@" || status=$?
exit "$status"
