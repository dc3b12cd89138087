#!/usr/bin/env bash
# Reproduces the `## Lambda` numbers of docs/benchmarks.md: warm invokes through
# `ssam local start-lambda` vs AWS's RIE (both running a trivial Python handler), and cold
# `ssam local invoke` vs plain python. Rounds alternate so background load hits both alike.
#
# Needs: a release ssam (cargo build --release --bin ssam), the bench driver
# (cargo build --release -p ssam-lambda --example lambda_bench), and a scratch venv OUTSIDE
# the repo with aws-sam-cli and awslambdaric (it carries the RIE binary):
#   python3 -m venv /tmp/samvenv && /tmp/samvenv/bin/pip install aws-sam-cli awslambdaric
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
venv=${SAMVENV:-/tmp/samvenv}
rounds=${ROUNDS:-3}
secs=${SECONDS_PER_RUN:-5}
ssam="$root/target/release/ssam"
bench="$root/target/release/examples/lambda_bench"
rie=$(ls "$venv"/lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/code"
cat > "$work/code/app.py" <<'PY'
def handler(event, context):
    return {"statusCode": 200, "body": "hello"}
PY
cat > "$work/code/bootstrap" <<SH
#!/bin/sh
exec $venv/bin/python -m awslambdaric "\$_HANDLER"
SH
chmod +x "$work/code/bootstrap"
cat > "$work/template.yaml" <<'YAML'
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:          # ssam's embedded Python bootstrap
    Type: AWS::Serverless::Function
    Properties: {CodeUri: code/, Handler: app.handler, Runtime: python3.11, ReservedConcurrentExecutions: 16}
  HelloRic:       # awslambdaric, the runtime client RIE runs
    Type: AWS::Serverless::Function
    Properties: {CodeUri: code/, Handler: app.handler, Runtime: provided.al2023, ReservedConcurrentExecutions: 16}
YAML

port=3901
"$ssam" local start-lambda -t "$work/template.yaml" --port $port 2>/dev/null &
ssam_pid=$!
sleep 1
ssam_url="http://127.0.0.1:$port/2015-03-31/functions"
rie_url="http://127.0.0.1:8080/2015-03-31/functions/function/invocations"

for round in $(seq "$rounds"); do
  echo "# round $round"
  for c in 1 16; do
    echo "ssam embedded-python c=$c: $("$bench" load "$ssam_url/Hello/invocations" --connections $c --seconds "$secs")"
    echo "ssam awslambdaric    c=$c: $("$bench" load "$ssam_url/HelloRic/invocations" --connections $c --seconds "$secs")"
  done
  (cd "$work/code" && exec "$rie" "$venv/bin/python" -m awslambdaric app.handler >/dev/null 2>&1) &
  rie_pid=$!
  sleep 1.5
  echo "rie awslambdaric     c=1: $("$bench" load "$rie_url" --connections 1 --seconds "$secs")"
  echo "rie awslambdaric     c=4: $("$bench" load "$rie_url" --connections 4 --seconds 2 || true)"
  kill $rie_pid 2>/dev/null || true; pkill -P $rie_pid 2>/dev/null || true; wait $rie_pid 2>/dev/null || true
  sleep 0.5
done
kill $ssam_pid; wait $ssam_pid 2>/dev/null || true

echo "# cold start"
# The real interpreter, not a pyenv shim (a shell script that would slow the baseline down).
py=$("$(command -v python3.11 || command -v python3)" -c 'import sys; print(sys.executable)')
cat > "$work/single.yaml" <<'YAML'
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: code/, Handler: app.handler, Runtime: python3.11}
YAML
# Interleaved runs, from the code directory; the first of each is not counted.
(cd "$work/code" && "$bench" cold --runs 60 -- "$py" -c 'import app; app.handler({}, None)' \
  -- "$ssam" local invoke -t "$work/single.yaml")
