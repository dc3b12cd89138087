#!/usr/bin/env bash
# The dashboard's cost: warm invoke throughput through `ssam local start-api` with the
# dashboard on and off (alternating rounds, 1 and 16 connections), then the server's
# resident memory after 100,000 invocations with the dashboard on (and off), which the ring
# (--dashboard-history, default 1000) keeps flat. Reproduces the "Dashboard overhead"
# section of docs/benchmarks.md. Only 127.0.0.1 is ever sent traffic.
#
# Needs a release ssam and the load driver:
#   cargo build --release --bin ssam && cargo build --release -p ssam-lambda --example lambda_bench
# ROUNDS (3), SECONDS_PER_RUN (5), INVOCATIONS (100000) change the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
ssam=${SSAM:-$root/target/release/ssam}
bench=${BENCH:-$root/target/release/examples/lambda_bench}
secs=${SECONDS_PER_RUN:-5}
rounds=${ROUNDS:-3}
invocations=${INVOCATIONS:-100000}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/code"
cat > "$work/code/app.py" <<'PY'
def handler(event, context):
    print("handled")
    return {"statusCode": 200, "body": "hello"}
PY
cat > "$work/template.yaml" <<'YAML'
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Api: {Type: HttpApi, Properties: {Path: /hello, Method: POST}}
YAML

# start NAME FLAGS...: starts start-api on a free port; sets $port and $pid.
start() {
  local name=$1; shift
  "$ssam" local start-api -t "$work/template.yaml" --port 0 --no-watch "$@" 2>"$work/$name.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    port=$(grep -o 'Running on http://127.0.0.1:[0-9]*' "$work/$name.log" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && return
    sleep 0.1
  done
  echo "$name did not start"; cat "$work/$name.log"; exit 1
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
# CPU time of the ssam process itself (user + system, clock ticks): the dashboard's cost is
# all there, while the runtimes' CPU is in their own processes. Less noisy than req/s on a
# shared machine.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# run NAME PORT PID C: one load run; prints the driver's line and ssam's CPU per request.
run() {
  local before after out n
  before=$(cpu_ticks "$3")
  out=$("$bench" load "http://127.0.0.1:$2/hello" --connections "$4" --seconds "$secs" --payload "$payload")
  after=$(cpu_ticks "$3")
  n=$(echo "$out" | grep -o 'requests=[0-9]*' | cut -d= -f2)
  echo "$out ssam_cpu_us_per_req=$(( (after - before) * 1000000 / hz / (n > 0 ? n : 1) ))"
}

start off --no-dashboard; off_port=$port; off_pid=$pid
start on --dashboard-port 0; on_port=$port; on_pid=$pid
dash=$(grep -o 'Dashboard http://[0-9.:]*' "$work/on.log" | cut -d' ' -f2)
echo "dashboard at $dash"

payload='{"message":"a small JSON body of about a hundred bytes, as an API client would send"}'
for c in 1 16; do
  for r in $(seq "$rounds"); do
    echo "c=$c round $r off: $(run off "$off_port" "$off_pid" "$c")"
    echo "c=$c round $r on:  $(run on "$on_port" "$on_pid" "$c")"
  done
done

# Memory: keep sending until each server has served $invocations more requests.
count() { curl -s "$dash/api/functions" | grep -o '"invocations":[0-9]*' | head -1 | cut -d: -f2; }
echo "before the memory run: on $(rss_mb "$on_pid") MB, off $(rss_mb "$off_pid") MB; dashboard holds $(count) invocations in total"
for name in on off; do
  p=$([ $name = on ] && echo "$on_port" || echo "$off_port")
  done_n=0
  while [ "$done_n" -lt "$invocations" ]; do
    out=$("$bench" load "http://127.0.0.1:$p/hello" --connections 16 --seconds 5 --warmup 0 --payload "$payload")
    n=$(echo "$out" | grep -o 'requests=[0-9]*' | cut -d= -f2)
    done_n=$((done_n + n))
    [ $name = on ] && echo "  on:  $done_n requests, RSS $(rss_mb "$on_pid") MB"
    [ $name = off ] && echo "  off: $done_n requests, RSS $(rss_mb "$off_pid") MB"
  done
done
echo "after: on $(rss_mb "$on_pid") MB ($(count) invocations made, $(curl -s "$dash/api/overview" | grep -o '"history":[0-9]*') kept), off $(rss_mb "$off_pid") MB"
