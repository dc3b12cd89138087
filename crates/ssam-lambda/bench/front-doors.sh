#!/usr/bin/env bash
# Warm invokes of one trivial Python function (no ReservedConcurrentExecutions) through both
# front doors a load test hits: `ssam local start-lambda` (POST to the Invoke URL) and
# `ssam local start-api` (POST /hello on an HTTP API), at 1 and 16 connections, errors
# counted. Reproduces the "Front doors" table of docs/benchmarks.md.
#
# Needs a release ssam and the driver:
#   cargo build --release --bin ssam && cargo build --release -p ssam-lambda --example lambda_bench
# SSAM=/path/to/other/ssam compares another build (e.g. one from before a change).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
ssam=${SSAM:-$root/target/release/ssam}
bench=${BENCH:-$root/target/release/examples/lambda_bench}
secs=${SECONDS_PER_RUN:-5}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

mkdir -p "$work/code"
cat > "$work/code/app.py" <<'PY'
def handler(event, context):
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

"$ssam" local start-lambda -t "$work/template.yaml" --port 3911 --no-watch 2>/dev/null &
"$ssam" local start-api -t "$work/template.yaml" --port 3912 --no-watch 2>/dev/null &
sleep 1.5
for c in 1 16; do
  echo "start-lambda c=$c: $("$bench" load "http://127.0.0.1:3911/2015-03-31/functions/Hello/invocations" --connections $c --seconds "$secs")"
  echo "start-api    c=$c: $("$bench" load "http://127.0.0.1:3912/hello" --connections $c --seconds "$secs")"
done
