#!/usr/bin/env bash
# bt-dr metrics against the real Prometheus tools, with the simulator as the site:
#   1. `promtool check metrics` on a textfile `bt-dr metrics --textfile` wrote (no lint output),
#   2. `promtool check rules` / `promtool test rules` / `promtool check config` on the examples,
#   3. a real Prometheus server (own data dir, random loopback port, 1 s scrapes, the example
#      rules loaded) scraping `bt-dr metrics serve` (/metrics and /probe); its HTTP API must
#      return the expected series, follow an appliance going down, and show the alert pending.
# Environment: BT_DR_BIN, SIM_BIN, PROMTOOL, PROMETHEUS (paths), EXAMPLES (examples/monitoring).
set -euo pipefail

: "${BT_DR_BIN:?}" "${SIM_BIN:?}" "${PROMTOOL:?}" "${PROMETHEUS:?}" "${EXAMPLES:?}"

work=$(mktemp -d "${TMPDIR:-/tmp}/bt-dr-prometheus.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    for f in "$work"/*.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT INT TERM

fail() { echo "prometheus: FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# Waits up to $1 seconds for the command in the remaining arguments to succeed.
wait_for() {
  local t=$1; shift
  local end=$((SECONDS + t))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.5
  done
}

# --- the simulator ---------------------------------------------------------------------------
"$SIM_BIN" >"$work/sim.json" 2>"$work/sim.log" &
pids+=($!)
wait_for 30 test -s "$work/sim.json" || fail "the simulator printed nothing"
sim=$(head -n1 "$work/sim.json")
primary_url=$(echo "$sim" | json 'd["primary_url"]')
backup_url=$(echo "$sim" | json 'd["backup_url"]')
ca=$(echo "$sim" | json 'd["ca_pem_path"]')
client_id=$(echo "$sim" | json 'd["client_id"]')
control=$(echo "$sim" | json 'd["control_url"]')
state=$(curl -fsS "$control/state")
host_a=$(echo "$state" | json 'd["appliances"][0]["hostname"]')
host_b=$(echo "$state" | json 'd["appliances"][1]["hostname"]')

# The secret goes into a 0600 file, never onto a command line.
umask 077
echo "$sim" | json '"BT_DR_SIM_SECRET=" + d["client_secret"]' >"$work/secrets.env"
secret=$(echo "$sim" | json 'd["client_secret"]')
cat >"$work/inventory.toml" <<TOML
[[sites]]
name = "support"
fqdn = "$(echo "$sim" | json 'd["site_hostname"]')"
product = "rs"
version = "$(echo "$sim" | json 'd["version"]')"
[[sites.appliances]]
hostname = "$host_a"
kind = "b300"
api_url = "$primary_url"
[[sites.appliances]]
hostname = "$host_b"
kind = "vmware"
api_url = "$backup_url"
[sites.failover]
primary = "$host_a"
backup = "$host_b"
routing = "dns-swing"
[sites.api]
client_id = "$client_id"
client_secret_env = "BT_DR_SIM_SECRET"
ca_file = "$ca"
TOML
mkdir -p "$work/store"
export BT_DR_INVENTORY="$work/inventory.toml" BT_DR_SECRET_FILE="$work/secrets.env" BT_DR_STORE="$work/store"
unset BT_DR_SIM_SECRET

# --- 1. textfile + promtool check metrics -----------------------------------------------------
mkdir -p "$work/textfile"
"$BT_DR_BIN" metrics --textfile "$work/textfile/bt-dr.prom" 2>"$work/textfile.log" \
  || fail "bt-dr metrics --textfile exited $?"
grep -Eq "^bt_dr_appliance_up\{site=\"support\",appliance=\"$host_a\"\} 1(\.0)?$" "$work/textfile/bt-dr.prom" \
  || fail "no bt_dr_appliance_up 1 for $host_a in the textfile"
if grep -qF "$secret" "$work/textfile/bt-dr.prom" "$work/textfile.log"; then fail "the secret is in the output"; fi
lint=$("$PROMTOOL" check metrics <"$work/textfile/bt-dr.prom" 2>&1) || fail "promtool check metrics: $lint"
[ -z "$lint" ] || fail "promtool check metrics has lint findings: $lint"
echo "prometheus: promtool check metrics: $(grep -c '^bt_dr_' "$work/textfile/bt-dr.prom") samples, no findings"

# --- 2. rules, rule unit tests, example config -------------------------------------------------
"$PROMTOOL" check rules "$EXAMPLES/bt-dr.rules.yml"
"$PROMTOOL" test rules "$EXAMPLES/bt-dr.rules.test.yml"
cp "$EXAMPLES/prometheus.yml" "$EXAMPLES/bt-dr.rules.yml" "$work/"
"$PROMTOOL" check config "$work/prometheus.yml"
python3 -m json.tool "$EXAMPLES/grafana-dashboard.json" >/dev/null || fail "grafana-dashboard.json is not JSON"

# --- 3. a real Prometheus scraping bt-dr metrics serve -----------------------------------------
"$BT_DR_BIN" metrics serve --listen 127.0.0.1:0 --cache-ttl 1s >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
wait_for 30 grep -qs '^listening on http://' "$work/serve.out" || fail "bt-dr metrics serve did not start"
serve_addr=$(sed -n 's#^listening on http://##p' "$work/serve.out" | head -n1)
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$serve_addr/probe?site=nope")
[ "$code" = 404 ] || fail "/probe?site=nope answered $code"

prom_port=$(free_port)
cat >"$work/prom.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $work/bt-dr.rules.yml
scrape_configs:
  - job_name: bt-dr
    scrape_timeout: 1s
    static_configs:
      - targets: ["$serve_addr"]
  - job_name: bt-dr-probe
    metrics_path: /probe
    scrape_timeout: 1s
    static_configs:
      - targets: ["support"]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_site
      - source_labels: [__param_site]
        target_label: instance
      - target_label: __address__
        replacement: "$serve_addr"
YAML
"$PROMETHEUS" --config.file="$work/prom.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$prom_port"
wait_for 60 curl -fs -o /dev/null "$api/-/ready" || fail "Prometheus did not become ready"

# query EXPR PYTHON-CONDITION: succeeds once the instant query result `r` (a list) satisfies it.
query() {
  curl -fsS --get "$api/api/v1/query" --data-urlencode "query=$1" \
    | python3 -c "import json,sys; r=json.load(sys.stdin)['data']['result']; sys.exit(0 if ($2) else 1)"
}
wait_for 60 query 'bt_dr_appliance_up{job="bt-dr"}' \
  "sorted((x['metric']['appliance'], x['value'][1]) for x in r) == sorted([('$host_a','1'), ('$host_b','1')])" \
  || fail "bt_dr_appliance_up from job bt-dr: $(curl -fsS --get "$api/api/v1/query" --data-urlencode 'query=bt_dr_appliance_up')"
wait_for 30 query 'bt_dr_appliance_up{job="bt-dr-probe",instance="support"}' "len(r) == 2" \
  || fail "no bt_dr_appliance_up from the /probe job"
query 'bt_dr_appliance_failover_role{role="primary"} == 1' "{x['metric']['appliance'] for x in r} == {'$host_a'}" \
  || fail "the primary role series"
query 'bt_dr_site_split_brain{job="bt-dr"}' "len(r) == 1 and r[0]['value'][1] == '0'" || fail "bt_dr_site_split_brain"
query 'bt_dr_audit_findings{rule="no_backup"}' "len(r) >= 1" || fail "the audit's no_backup finding"
query 'bt_dr_appliance_certificate_not_after_timestamp_seconds - time() > 0' "len(r) >= 2" \
  || fail "served certificate expiry"
query 'bt_dr_refreshes_total{job="bt-dr"}' "len(r) == 1 and float(r[0]['value'][1]) >= 1" || fail "bt_dr_refreshes_total"

# The backup appliance goes down: the series follows within the cache TTL and the alert is pending.
curl -fsS -X POST -d '{"down": true}' "$control/appliances/1/down" >/dev/null
wait_for 30 query "bt_dr_appliance_up{job=\"bt-dr\",appliance=\"$host_b\"}" "len(r) == 1 and r[0]['value'][1] == '0'" \
  || fail "bt_dr_appliance_up did not drop to 0 for $host_b"
wait_for 30 query 'ALERTS{alertname="BtDrApplianceDown"}' "any(x['metric'].get('appliance') == '$host_b' for x in r)" \
  || fail "BtDrApplianceDown is not pending"
echo "prometheus: a real Prometheus on 127.0.0.1:$prom_port scraped bt-dr metrics serve; series and alert as expected"

# Graceful stop of the server: SIGTERM, exit 0.
kill -TERM "$serve_pid"
rc=0
wait "$serve_pid" || rc=$?
[ "$rc" -eq 0 ] || fail "bt-dr metrics serve exited $rc on SIGTERM"
if grep -qF "$secret" "$work/serve.out" "$work/serve.log"; then fail "the secret is in the server's output"; fi
echo "prometheus: all checks passed"
