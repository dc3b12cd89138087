#!/usr/bin/env bash
# `ssam build` against SAM CLI's `sam build` on the same template: ten python3.11 Zip
# functions (fn0..fn9, each its own CodeUri with `requests==2.32.3`, which pulls in
# charset_normalizer's compiled wheels) and one python3.11 layer. Each tool works on its own
# copy of the project, with its own pip cache (and, for ssam, its own XDG_CACHE_HOME, so
# ~/.cache/ssam is neither used nor touched). Figures, wall clock:
#   1a full build, cold: `rm -rf .aws-sam`, empty caches; `ssam build` vs plain `sam build`
#   1b full build, warm: ssam: `rm -rf .aws-sam`, dependency cache warm; sam: a second
#      `sam build --cached --parallel` with .aws-sam/build removed (.aws-sam/cache and
#      build.toml kept: SAM's dependency cache lives in .aws-sam, so this is its warm case)
#   2  no-change rebuild (median of $RUNS): `ssam build` vs `sam build --cached --parallel`
#   3  fn3/app.py gets a comment appended, rebuild (median of $RUNS, a new comment each time)
#   4  `six==1.17.0` added to fn5/requirements.txt, rebuild (one run)
# then checks each tool's result (the edit is in .aws-sam/build/fn3/app.py, six is in fn5)
# and prints how the two .aws-sam/build trees differ (fn0, the layer, template.yaml).
#
# Needs a release ssam (cargo build --release --bin ssam), python3.11 on PATH (SAM's python
# workflow wants the runtime's version), network access to PyPI.
# SSAM=/path/to/other/ssam compares another build; SAM=/path/to/sam another SAM CLI (created
# as a venv with `pip install aws-sam-cli` if missing). KEEP=1 keeps the work dir (logs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
runs=${RUNS:-3}
# A copy, so a rebuild of target/ during the run does not change the binary under test.
mkdir -p /tmp/bench-build-bin
cp "${SSAM:-$root/target/release/ssam}" /tmp/bench-build-bin/ssam
ssam=/tmp/bench-build-bin/ssam
sam=${SAM:-/tmp/samvenv/bin/sam}
export SAM_CLI_TELEMETRY=0
command -v python3.11 >/dev/null || { echo "python3.11 is not on PATH" >&2; exit 1; }
if [ ! -x "$sam" ]; then
  venv=$(dirname "$(dirname "$sam")")
  echo "installing aws-sam-cli into $venv" >&2
  python3 -m venv "$venv" && "$venv/bin/pip" install -q aws-sam-cli
fi
work=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then
  trap 'echo "work dir kept: $work" >&2' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
warnings=$work/warnings
: >"$warnings"

make_project() {
  local dir=$1 i
  mkdir -p "$dir/layer"
  {
    echo "AWSTemplateFormatVersion: '2010-09-09'"
    echo "Transform: AWS::Serverless-2016-10-31"
    echo "Globals:"
    echo "  Function: {Runtime: python3.11, Handler: app.handler, Timeout: 10}"
    echo "Resources:"
    echo "  SharedLayer:"
    echo "    Type: AWS::Serverless::LayerVersion"
    echo "    Properties:"
    echo "      ContentUri: layer/"
    echo "      CompatibleRuntimes: [python3.11]"
    echo "    Metadata: {BuildMethod: python3.11}"
    for i in $(seq 0 9); do
      echo "  fn$i:"
      echo "    Type: AWS::Serverless::Function"
      echo "    Properties:"
      echo "      CodeUri: fn$i/"
      echo "      Layers: [!Ref SharedLayer]"
    done
  } >"$dir/template.yaml"
  for i in $(seq 0 9); do
    mkdir -p "$dir/fn$i"
    printf 'import requests\n\n\ndef handler(event, context):\n    return {"statusCode": 200, "body": "fn%s"}\n' "$i" >"$dir/fn$i/app.py"
    echo "requests==2.32.3" >"$dir/fn$i/requirements.txt"
  done
  printf 'def greet(name):\n    return f"hello {name}"\n' >"$dir/layer/shared.py"
  echo "pyyaml==6.0.2" >"$dir/layer/requirements.txt"
}

# Each tool: its own project and caches. $1 is ssam or sam; the rest its arguments.
tool() {
  local t=$1; shift
  if [ "$t" = ssam ]; then
    (cd "$work/ssam" && XDG_CACHE_HOME="$work/cache-ssam" PIP_CACHE_DIR="$work/cache-ssam/pip" "$ssam" build "$@")
  else
    (cd "$work/sam" && XDG_CACHE_HOME="$work/cache-sam" PIP_CACHE_DIR="$work/cache-sam/pip" "$sam" build "$@")
  fi
}
# Wall-clock seconds of `tool "$@"`, its output appended to $work/<tool>.log; "fail" if it failed.
timed() {
  local log=$work/$1.log t0 t1
  echo "### $*" >>"$log"
  # The other tool's writes (sam build copies ~26 MB per run) must not be flushed on our clock.
  sync
  t0=$(date +%s.%N)
  if tool "$@" >>"$log" 2>&1; then
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
  else
    echo "warning: \`$*\` failed (see the tail of its log below)" >>"$warnings"
    tail -5 "$log" | sed 's/^/    /' >>"$warnings"
    echo fail
  fi
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0 || v[1] == "fail") print "fail"; else print v[int((NR + 1) / 2)] }'; }
fmt() { case $1 in fail) echo fail ;; *) awk -v s="$1" 'BEGIN { if (s < 1) printf "%.0f ms", s * 1000; else printf "%.2f s", s }' ;; esac; }
ratio() { case "$1$2" in *fail*) echo - ;; *) awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f×", a / b }' ;; esac; }
check() { # $1 tool, $2 file under .aws-sam/build, $3 text it must contain (empty: must exist)
  local f=$work/$1/.aws-sam/build/$2
  if [ ! -f "$f" ] || { [ -n "$3" ] && ! grep -qF -- "$3" "$f"; }; then
    echo "warning: $1: .aws-sam/build/$2 is missing${3:+ or lacks \"$3\"}" >>"$warnings"
  fi
}

make_project "$work/ssam"
make_project "$work/sam"
start=$(date +%s)
"$ssam" --version >/dev/null
"$sam" --version >/dev/null

# 1a: cold. Both caches empty.
cold_ssam=$(timed ssam)
cold_sam=$(timed sam)
for t in ssam sam; do
  check $t fn0/requests/__init__.py ""
  check $t SharedLayer/python/shared.py ""
  check $t SharedLayer/python/yaml/__init__.py ""
done

# 1b: warm dependency caches, clean build dir.
rm -rf "$work/ssam/.aws-sam"
warm_ssam=$(timed ssam)
rm -rf "$work/sam/.aws-sam"
first_cached_sam=$(timed sam --cached --parallel)
rm -rf "$work/sam/.aws-sam/build"
warm_sam=$(timed sam --cached --parallel)
for t in ssam sam; do
  check $t fn0/requests/__init__.py ""
  check $t SharedLayer/python/yaml/__init__.py ""
done

# 2: nothing changed.
noop_ssam=$(for _ in $(seq "$runs"); do echo -n "$(timed ssam) "; done | median)
noop_sam=$(for _ in $(seq "$runs"); do echo -n "$(timed sam --cached --parallel) "; done | median)

# 3: one source file edited, a new comment each run.
edit() { echo "# edit $1 $2" >>"$work/$1/fn3/app.py"; }
edit_ssam=$(for i in $(seq "$runs"); do edit ssam "$i"; echo -n "$(timed ssam) "; done | median)
edit_sam=$(for i in $(seq "$runs"); do edit sam "$i"; echo -n "$(timed sam --cached --parallel) "; done | median)
check ssam fn3/app.py "# edit ssam $runs"
check sam fn3/app.py "# edit sam $runs"

# 4: one manifest edited.
echo "six==1.17.0" >>"$work/ssam/fn5/requirements.txt"
echo "six==1.17.0" >>"$work/sam/fn5/requirements.txt"
manifest_ssam=$(timed ssam)
manifest_sam=$(timed sam --cached --parallel)
check ssam fn5/six.py ""
check sam fn5/six.py ""
check ssam fn3/app.py "# edit ssam $runs"
check sam fn3/app.py "# edit sam $runs"

target() { # $1 ssam seconds, $2 limit: "N×" of $3 or seconds
  case "$1${3:-}" in *fail*) echo "-"; return ;; esac
  if [ -n "${3:-}" ]; then
    awk -v a="$1" -v b="$3" -v l="${2%×}" 'BEGIN { print (a <= l * b ? "met" : "NOT met") " (≤ " l "× sam)" }'
  else
    awk -v a="$1" -v l="$2" 'BEGIN { print (a <= l ? "met" : "NOT met") " (≤ " l * 1000 " ms)" }'
  fi
}

echo "ssam: $("$ssam" --version); $("$sam" --version); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| figure | ssam | sam build | ratio | target |"
echo "|---|---|---|---|---|"
echo "| 1a full build, cold caches (ssam build / sam build) | $(fmt "$cold_ssam") | $(fmt "$cold_sam") | $(ratio "$cold_ssam" "$cold_sam") | $(target "$cold_ssam" 0.25× "$cold_sam") |"
echo "| 1b full build, warm deps cache (ssam build / sam build --cached --parallel) | $(fmt "$warm_ssam") | $(fmt "$warm_sam") | $(ratio "$warm_ssam" "$warm_sam") | $(target "$warm_ssam" 0.25× "$warm_sam") |"
echo "| (sam build --cached --parallel from an empty .aws-sam) | | $(fmt "$first_cached_sam") | | |"
echo "| 2 no-change rebuild, median of $runs | $(fmt "$noop_ssam") | $(fmt "$noop_sam") | $(ratio "$noop_ssam" "$noop_sam") | $(target "$noop_ssam" 0.05) |"
echo "| 3 fn3/app.py edited, median of $runs | $(fmt "$edit_ssam") | $(fmt "$edit_sam") | $(ratio "$edit_ssam" "$edit_sam") | $(target "$edit_ssam" 0.2) |"
echo "| 4 fn5/requirements.txt edited (+six) | $(fmt "$manifest_ssam") | $(fmt "$manifest_sam") | $(ratio "$manifest_ssam" "$manifest_sam") | |"
while IFS= read -r w; do
  case $w in warning:*) echo "| **${w#warning: }** | | | | |" ;; esac
done <"$warnings"
echo
echo "script: $(( $(date +%s) - start )) s"
if [ -s "$warnings" ]; then echo; cat "$warnings"; fi

# How the two results differ: file lists of fn0 and the layer, and the built templates.
echo
echo "### .aws-sam/build differences (< ssam, > sam build)"
for d in fn0 SharedLayer; do
  a=$(cd "$work/ssam/.aws-sam/build/$d" 2>/dev/null && find . | sort) || true
  b=$(cd "$work/sam/.aws-sam/build/$d" 2>/dev/null && find . | sort) || true
  echo "$d: $(echo -n "$a" | grep -c '') entries vs $(echo -n "$b" | grep -c '')"
  diff <(echo "$a") <(echo "$b") | grep '^[<>]' | head -${DIFF_LINES:-30} || true
done
echo "template.yaml:"
diff "$work/ssam/.aws-sam/build/template.yaml" "$work/sam/.aws-sam/build/template.yaml" | head -${DIFF_LINES:-30} || true
