#!/usr/bin/env bash
# ssam's Docker sandboxes side by side with SAM CLI, on one trivial Python handler deployed
# twice: `ImageFn` (PackageType: Image, built from Metadata: Dockerfile FROM the stand-in Lambda
# base image) and `ZipFn` (python3.11, run natively by ssam or in the base image with --docker).
#   1. cold `local invoke` wall time, median of $RUNS (rounds interleave every command, so
#      background load hits each alike; one round first, not counted)
#   2. warm invokes through `local start-api` (EAGER warm containers on both sides) at 1 and 16
#      connections: requests/s, p50/p99 latency, each run $SECONDS_PER_RUN s after a warm-up
#      (SAM's 1-connection runs are bimodal, see the note under its table), plus how long
#      `start-api` takes to answer, to exit on SIGTERM, and the containers it leaves
#   3. ssam's cold container start: the Init Duration of the first REPORT line of
#      `ssam local invoke ImageFn`, median of the same $RUNS runs
# and prints one markdown table, plus ssam's warm Docker vs warm native ratio.
#
# Needs: Docker (no registry: every image is local), a release ssam
# (cargo build --release --bin ssam), and SAM CLI in a venv OUTSIDE the repo:
#   python3.11 -m venv /tmp/samvenv && /tmp/samvenv/bin/pip install aws-sam-cli
# The base image is the testkit's stand-in for public.ecr.aws/lambda/python (ssam-test/python:3.11),
# built with crates/ssam-testkit/lambda-image/build.sh when missing.
# Load drivers: ssam is driven by lambda_bench (cargo build --release -p ssam-lambda --example
# lambda_bench) when it exists; SAM CLI always, and ssam without lambda_bench, by an equivalent
# single-threaded asyncio driver written to the work dir (same arguments, same output line) that
# reconnects when the server closes the connection: SAM's Werkzeug server answers every request
# with `Connection: close`, which lambda_bench does not survive ("operation was canceled").
# With awslambdaric in the SAM venv ($venv/bin/pip install awslambdaric), ssam also runs the
# handler natively under awslambdaric (Runtime: provided.al2023, a separate template): the same
# runtime client as in the image, so Docker's own share of the Docker/native gap shows.
# Env: SSAM, BENCH, SAMVENV, RUNS (5), SECONDS_PER_RUN (5), PORT (3941; uses PORT..PORT+3).
# Leaves nothing behind: the work dir, the containers of both tools, and the images this run
# tagged (imagefn:bench and SAM's imagefn:rapid-x86_64, ssam-test/python:rapid-x86_64) go
# (KEEP_IMAGES=1 keeps the images).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
ssam=${SSAM:-$root/target/release/ssam}
bench=${BENCH:-$root/target/release/examples/lambda_bench}
venv=${SAMVENV:-/tmp/samvenv}
sam="$venv/bin/sam"
runs=${RUNS:-5}
secs=${SECONDS_PER_RUN:-5}
port=${PORT:-3941}
base=ssam-test/python:3.11
started=$SECONDS
export SAM_CLI_TELEMETRY=0
work=$(mktemp -d)
mkdir -p "$work/tmp" "$work/log"
# SAM keeps lock/status files in the temp dir; keep them in the work dir.
samenv=(env TMPDIR="$work/tmp")

say() { echo "[docker.sh +$((SECONDS - started))s] $*" >&2; }
cleanup() {
  local pids
  pids=$(jobs -p)
  [ -n "$pids" ] && kill $pids 2>/dev/null && sleep 1
  kill -9 $pids 2>/dev/null || true
  # SAM CLI can leave its warm containers running when it gets SIGTERM.
  docker ps -aq --filter label=sam.cli.container.type=lambda | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker ps -aq --filter "label=ssam.template=$work/template.yaml" | xargs -r docker rm -f >/dev/null 2>&1 || true
  if [ -z "${KEEP_IMAGES:-}" ]; then
    docker rmi imagefn:rapid-x86_64 ssam-test/python:rapid-x86_64 >/dev/null 2>&1 || true
    docker rmi imagefn:bench >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

[ -x "$ssam" ] || { echo "no ssam at $ssam" >&2; exit 1; }
[ -x "$sam" ] || { echo "no SAM CLI at $sam (python3.11 -m venv $venv && $venv/bin/pip install aws-sam-cli)" >&2; exit 1; }
for p in $port $((port + 1)) $((port + 2)) $((port + 3)); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is in use (set PORT)" >&2; exit 1; fi
done
if ! docker image inspect "$base" >/dev/null 2>&1; then
  say "building the stand-in base image $base"
  bash "$root/crates/ssam-testkit/lambda-image/build.sh" "$base" docker-bench /tmp/ssam-test-lambda-image-cache >&2
fi

# The real interpreter, not a pyenv shim.
py=$("$(command -v python3.11 || command -v python3)" -c 'import sys; print(sys.executable)')
cat > "$work/load.py" <<'PY'
# lambda_bench load, in Python: N kept-alive connections POST {} in a loop on one thread for
# --warmup then --seconds; prints requests/s and p50/p99 of the measured part, errors counted.
import asyncio, sys, time

def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default

url = sys.argv[2]
conns, secs, warm = arg("--connections", 1), arg("--seconds", 10.0), arg("--warmup", 1.0)
hostport, _, path = url.split("://", 1)[1].partition("/")
host, _, port = hostport.partition(":")
body = arg("--payload", "{}").encode()
req = (f"POST /{path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\n"
       f"Content-Length: {len(body)}\r\n\r\n").encode() + body

async def response(r):
    head = (await r.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, status = head[0].split(" ", 2)[:2]
    h = dict((k.strip().lower(), v.strip()) for k, _, v in (l.partition(":") for l in head[1:] if l))
    if "content-length" in h:
        data = await r.readexactly(int(h["content-length"]))
    elif h.get("transfer-encoding", "").lower() == "chunked":
        data = b""
        while (n := int((await r.readuntil(b"\r\n")).split(b";")[0], 16) + 2) > 2:
            data += (await r.readexactly(n))[:-2]
        await r.readexactly(2)
    else:
        data, h["connection"] = await r.read(), "close"
    conn = h.get("connection", "").lower()
    return int(status), data, conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive")

async def connection(until, warm_until, out):
    r = w = None
    while time.perf_counter() < until:
        t = time.perf_counter()
        try:
            if w is None:
                r, w = await asyncio.open_connection(host, int(port or 80))
            w.write(req)
            status, data, close = await response(r)
            err = None if status == 200 else f"{status}: {data[:200].decode(errors='replace')}"
        except Exception as e:
            err, close = f"{type(e).__name__}: {e}", True
        elapsed = time.perf_counter() - t
        if close and w is not None:
            w.close()
            r = w = None
        if t < warm_until:
            continue
        if err is None:
            out["lat"].append(elapsed)
        else:
            out["errors"] += 1
            out.setdefault("first_error", err)
            if w is None:
                await asyncio.sleep(0.01)

async def main():
    out = {"lat": [], "errors": 0}
    warm_until = time.perf_counter() + warm
    await asyncio.gather(*(connection(warm_until + secs, warm_until, out) for _ in range(conns)))
    measured = time.perf_counter() - warm_until
    lat = sorted(out["lat"])
    pct = lambda p: lat[min(len(lat) - 1, round((len(lat) - 1) * p))] * 1000 if lat else 0.0
    fe = f" first_error={out['first_error']!r}" if "first_error" in out else ""
    print(f"connections={conns} requests={len(lat)} errors={out['errors']} "
          f"rps={len(lat) / measured:.0f} p50_ms={pct(0.5):.3f} p99_ms={pct(0.99):.3f}{fe}")

asyncio.run(main())
PY
load_sam=("$py" "$work/load.py" load)
if [ -x "$bench" ]; then
  load_ssam=("$bench" load)
else
  say "no lambda_bench at $bench: driving ssam with the Python driver too"
  load_ssam=("$py" "$work/load.py" load)
fi

# --- the app --------------------------------------------------------------------------------
mkdir -p "$work/code" "$work/image"
cat > "$work/code/app.py" <<'PY'
def handler(event, context):
    return {"statusCode": 200, "body": "hello"}
PY
cp "$work/code/app.py" "$work/image/app.py"
cat > "$work/image/Dockerfile" <<DOCKERFILE
FROM $base
COPY app.py \${LAMBDA_TASK_ROOT}/
CMD ["app.handler"]
DOCKERFILE
cat > "$work/template.yaml" <<'YAML'
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  ImageFn:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      Events:
        Api: {Type: HttpApi, Properties: {Path: /image, Method: POST}}
    Metadata:
      Dockerfile: Dockerfile
      DockerContext: ./image
      DockerTag: bench
  ZipFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Api: {Type: HttpApi, Properties: {Path: /zip, Method: POST}}
YAML
tpl="$work/template.yaml"
built="$work/.aws-sam/build/template.yaml"
ric=""
if "$venv/bin/python" -c 'import awslambdaric' 2>/dev/null; then
  ric="$work/ric.yaml"
  mkdir -p "$work/ric"
  cp "$work/code/app.py" "$work/ric/app.py"
  printf '#!/bin/sh\nexec %s -m awslambdaric "$_HANDLER"\n' "$venv/bin/python" > "$work/ric/bootstrap"
  chmod +x "$work/ric/bootstrap"
  cat > "$ric" <<'YAML'
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  RicFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ric/
      Handler: app.handler
      Runtime: provided.al2023
      Events:
        Api: {Type: HttpApi, Properties: {Path: /ric, Method: POST}}
YAML
fi

# SAM needs `sam build` for an Image function (its template gets ImageUri: imagefn:bench). It
# tags imagefn:bench without ssam's content-hash label, so ssam's first invoke rebuilds it (from
# the layer cache) and both tools then run the very same image.
say "sam build"
(cd "$work" && "${samenv[@]}" "$sam" build -t "$tpl" >"$work/log/sam-build.log" 2>&1) ||
  { tail -20 "$work/log/sam-build.log" >&2; exit 1; }

# --- 1. cold invokes ------------------------------------------------------------------------
# name|command; every command must print the handler's body on stdout.
cold=(
  "ssam-image|$ssam local invoke -t $tpl ImageFn --no-event"
  "ssam-zip|$ssam local invoke -t $tpl ZipFn --no-event"
  "ssam-zip-docker|$ssam local invoke -t $tpl ZipFn --no-event --docker --invoke-image $base"
  "sam-image|${samenv[*]} $sam local invoke -t $built ImageFn --no-event --skip-pull-image"
  "sam-zip|${samenv[*]} $sam local invoke -t $built ZipFn --no-event --skip-pull-image --invoke-image $base"
)
declare -A wall init
say "cold invokes: 1 + $runs rounds of ${#cold[@]} commands"
for round in $(seq 0 "$runs"); do
  for entry in "${cold[@]}"; do
    name=${entry%%|*}
    out="$work/log/$name.$round"
    t0=$(date +%s%N)
    if ! (cd "$work" && ${entry#*|} >"$out.out" 2>"$out.err") || ! grep -q hello "$out.out"; then
      echo "cold invoke $name failed (round $round): ${entry#*|}" >&2
      tail -20 "$out.err" >&2
      exit 1
    fi
    t1=$(date +%s%N)
    [ "$round" = 0 ] && continue
    wall[$name]+="$(((t1 - t0) / 1000)) "
    i=$(grep -m1 'REPORT RequestId' "$out.err" | sed -n 's/.*Init Duration: \([0-9.]*\) ms.*/\1/p')
    init[$name]+="${i:-nan} "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print NR ? (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2) : "nan"}'; }
for name in ssam-image ssam-zip ssam-zip-docker sam-image sam-zip; do
  echo "cold $name: wall_us=[${wall[$name]% }] init_ms=[${init[$name]% }]" >&2
done
leftover_cold=$(docker ps -aq --filter "label=ssam.template=$tpl" | wc -l)

# --- 2. warm invokes through start-api ------------------------------------------------------
# Starts a server in the background (pid in $server_pid), waits until every route answers 200
# and puts the time that took in $ready_s.
serve() {
  local name=$1 p=$2 routes=$3 t0 route; shift 3
  t0=$(date +%s%N)
  (cd "$work" && exec "$@" >"$work/log/$name.out" 2>"$work/log/$name.err") &
  server_pid=$!
  for route in $routes; do
    until curl -sf -o /dev/null -m 5 -X POST -d '{}' "http://127.0.0.1:$p/$route"; do
      if ! kill -0 $server_pid 2>/dev/null || [ $(($(date +%s%N) - t0)) -gt 120000000000 ]; then
        echo "$name did not come up on port $p" >&2; tail -20 "$work/log/$name.err" >&2; exit 1
      fi
      sleep 0.1
    done
  done
  ready_s=$(awk -v n=$(($(date +%s%N) - t0)) 'BEGIN {printf "%.2f", n / 1e9}')
}
# Stops a server with SIGTERM; $stop_s is how long it took to exit, $left how many of its
# containers were still there a second later (then removed).
stop() {
  local pid=$1 filter=$2 t0
  t0=$(date +%s%N)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  stop_s=$(awk -v n=$(($(date +%s%N) - t0)) 'BEGIN {printf "%.2f", n / 1e9}')
  sleep 1
  left=$(docker ps -aq --filter "$filter" | wc -l)
  docker ps -aq --filter "$filter" | xargs -r docker rm -f >/dev/null 2>&1 || true
}

declare -A url
say "starting ssam (native Zip) on $port"
serve ssam-api "$port" "image zip" "$ssam" local start-api -t "$tpl" --port "$port" --no-watch --warm-containers EAGER
ssam_pid=$server_pid ssam_ready=$ready_s
say "starting ssam --docker on $((port + 1))"
serve ssam-api-docker $((port + 1)) "image zip" "$ssam" local start-api -t "$tpl" --port $((port + 1)) --no-watch \
  --warm-containers EAGER --docker --invoke-image "ZipFn=$base"
ssam_docker_pid=$server_pid
say "starting sam on $((port + 2))"
serve sam-api $((port + 2)) "image zip" "${samenv[@]}" "$sam" local start-api -t "$built" --port $((port + 2)) \
  --skip-pull-image --warm-containers EAGER --invoke-image "ZipFn=$base"
sam_pid=$server_pid sam_ready=$ready_s
names="ssam-image ssam-zip ssam-zip-docker sam-image sam-zip"
if [ -n "$ric" ]; then
  say "starting ssam (awslambdaric, native) on $((port + 3))"
  serve ssam-api-ric $((port + 3)) ric "$ssam" local start-api -t "$ric" --port $((port + 3)) --no-watch --warm-containers EAGER
  ric_pid=$server_pid
  url[ssam-ric]="http://127.0.0.1:$((port + 3))/ric"
  names+=" ssam-ric"
fi
url[ssam-image]="http://127.0.0.1:$port/image"
url[ssam-zip]="http://127.0.0.1:$port/zip"
url[ssam-zip-docker]="http://127.0.0.1:$((port + 1))/zip"
url[sam-image]="http://127.0.0.1:$((port + 2))/image"
url[sam-zip]="http://127.0.0.1:$((port + 2))/zip"

declare -A res
for c in 1 16; do
  for name in $names; do
    say "load $name c=$c"
    if [ "${name#sam}" != "$name" ]; then driver=("${load_sam[@]}"); else driver=("${load_ssam[@]}"); fi
    # 16 connections start new instances during the warm-up: give them 2 s.
    res[$name.$c]=$("${driver[@]}" "${url[$name]}" --connections $c --seconds "$secs" --warmup $((c > 1 ? 2 : 1)))
    echo "warm $name c=$c: ${res[$name.$c]}" >&2
  done
done
ssam_instances=$(docker ps -q --filter "label=ssam.pid=$ssam_pid" --filter label=ssam.function-name=ImageFn | wc -l)
ssam_docker_instances=$(docker ps -q --filter "label=ssam.pid=$ssam_docker_pid" --filter label=ssam.function-name=ZipFn | wc -l)
sam_instances=$(docker ps -q --filter label=sam.cli.container.type=lambda | wc -l)

stop $ssam_pid "label=ssam.pid=$ssam_pid"; ssam_stop=$stop_s ssam_left=$left
stop $ssam_docker_pid "label=ssam.pid=$ssam_docker_pid"; ssam_docker_stop=$stop_s ssam_docker_left=$left
stop $sam_pid label=sam.cli.container.type=lambda; sam_stop=$stop_s sam_left=$left
[ -n "$ric" ] && { kill $ric_pid; wait $ric_pid 2>/dev/null || true; }

# --- the table ------------------------------------------------------------------------------
get() { sed -n -E "s/(.* |^)$2=([^ ]*).*/\2/p" <<<"${res[$1]}"; }
ms() { awk -v u="$1" 'BEGIN {printf "%.0f ms", u / 1000}'; }
# ratio A B: how many times A is B, one decimal.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-1}" 'BEGIN {if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.*f×", d, a / b}'; }
errs() { local e; e=$(get "$1" errors); [ "${e:-0}" = 0 ] && return; printf ' (%s errors)' "$e"; }

declare -A med
for name in "${!wall[@]}"; do med[$name]=$(median <<<"${wall[$name]}"); done
init_image=$(median <<<"${init[ssam-image]}")
init_zip_docker=$(median <<<"${init[ssam-zip-docker]}")
init_zip=$(median <<<"${init[ssam-zip]}")

echo
echo "## ssam vs SAM CLI $("$sam" --version | awk '{print $NF}'), Docker sandboxes ($(nproc) cores, $base)"
echo
echo "| figure | ssam | SAM CLI | ratio |"
echo "|---|---|---|---|"
row() { echo "| $1 | $2 | $3 | $4 |"; }
row "cold \`local invoke ImageFn\` (median of $runs)" "$(ms "${med[ssam-image]}")" "$(ms "${med[sam-image]}")" \
  "$(ratio "${med[sam-image]}" "${med[ssam-image]}")"
row "cold \`local invoke ZipFn\` --docker / --invoke-image" "$(ms "${med[ssam-zip-docker]}")" "$(ms "${med[sam-zip]}")" \
  "$(ratio "${med[sam-zip]}" "${med[ssam-zip-docker]}")"
row "cold \`local invoke ZipFn\`, ssam native" "$(ms "${med[ssam-zip]}")" "$(ms "${med[sam-zip]}") (container)" \
  "$(ratio "${med[sam-zip]}" "${med[ssam-zip]}")"
row "cold container start ImageFn (Init Duration, median of $runs)" "$init_image ms" "n/a (RIE's REPORT: ~0 ms)" "—"
row "\`start-api --warm-containers EAGER\` until both routes answer" "${ssam_ready} s" "${sam_ready} s" \
  "$(ratio "$sam_ready" "$ssam_ready")"
for c in 1 16; do
  for pair in "ImageFn|ssam-image|sam-image" "ZipFn in Docker|ssam-zip-docker|sam-zip" "ZipFn native (SAM: container)|ssam-zip|sam-zip"; do
    IFS='|' read -r label s a <<<"$pair"
    row "warm $label, $c conn: req/s" "$(get $s.$c rps)$(errs $s.$c)" "$(get $a.$c rps)$(errs $a.$c)" \
      "$(ratio "$(get $s.$c rps)" "$(get $a.$c rps)")"
    row "warm $label, $c conn: p50 / p99 ms" "$(get $s.$c p50_ms) / $(get $s.$c p99_ms)" \
      "$(get $a.$c p50_ms) / $(get $a.$c p99_ms)" "$(ratio "$(get $a.$c p50_ms)" "$(get $s.$c p50_ms)")"
  done
done
echo
echo "ratio: how many times better ssam is (SAM time / ssam time, ssam req/s / SAM req/s)."
# SAM ends each request by waiting up to 1 s for the REPORT line in the container's log
# (samcli/local/docker/container.py, wait_for_result), found by a regex that misses it when the
# RIE's START/END/REPORT lines arrive in one chunk: runs alternate between ~15 ms and ~1 s.
if awk -v a="$(get sam-image.1 p99_ms)" -v b="$(get sam-zip.1 p99_ms)" 'BEGIN {exit !(a > 500 || b > 500)}'; then
  echo "SAM's 1-connection latencies near 1 s: it waited out its 1 s timeout for the container's REPORT"
  echo "log line (samcli/local/docker/container.py, wait_for_result), for some requests in some runs."
fi
echo
echo "### ssam: Docker vs native"
echo
echo "| figure | Docker | native | ratio | target |"
echo "|---|---|---|---|---|"
for c in 1 16; do
  for pair in "ImageFn|ssam-image" "ZipFn --docker|ssam-zip-docker"; do
    IFS='|' read -r label s <<<"$pair"
    echo "| warm $label vs ZipFn native, $c conn: req/s | $(get $s.$c rps) | $(get ssam-zip.$c rps) | $(ratio "$(get ssam-zip.$c rps)" "$(get $s.$c rps)" 2) | ≤ 1.5× |"
    echo "| warm $label vs ZipFn native, $c conn: p50 ms | $(get $s.$c p50_ms) | $(get ssam-zip.$c p50_ms) | $(ratio "$(get $s.$c p50_ms)" "$(get ssam-zip.$c p50_ms)" 2) | ≤ 1.5× |"
  done
  [ -z "$ric" ] && continue
  echo "| warm ZipFn --docker vs native awslambdaric (same runtime client), $c conn: req/s | $(get ssam-zip-docker.$c rps) | $(get ssam-ric.$c rps) | $(ratio "$(get ssam-ric.$c rps)" "$(get ssam-zip-docker.$c rps)" 2) | — |"
  echo "| warm ZipFn --docker vs native awslambdaric (same runtime client), $c conn: p50 ms | $(get ssam-zip-docker.$c p50_ms) | $(get ssam-ric.$c p50_ms) | $(ratio "$(get ssam-zip-docker.$c p50_ms)" "$(get ssam-ric.$c p50_ms)" 2) | — |"
done
echo
echo "native: ssam's embedded Python bootstrap; the images run awslambdaric (AWS's runtime client)."
echo
echo "| figure | ssam | target |"
echo "|---|---|---|"
echo "| cold container start, ImageFn (Init Duration) | $init_image ms | < 600 ms |"
echo "| cold container start, ZipFn --docker (Init Duration) | $init_zip_docker ms | < 600 ms |"
echo "| cold native start, ZipFn (Init Duration) | $init_zip ms | — |"
echo
echo "Containers running after the 16-connection load: ssam $ssam_instances for ImageFn, $ssam_docker_instances for ZipFn (--docker); SAM $sam_instances in all."
echo "SIGTERM to exit: ssam ${ssam_stop} s / ${ssam_docker_stop} s (--docker), SAM ${sam_stop} s."
echo "Containers left after exit: ssam $ssam_left + $ssam_docker_left (--docker), SAM $sam_left; after the cold invokes: ssam $leftover_cold."
echo "Load drivers: ssam ${load_ssam[*]##*/}, SAM ${load_sam[*]##*/}; $secs s per run after a 1 s (16 conn: 2 s) warm-up. Took $((SECONDS - started)) s."
