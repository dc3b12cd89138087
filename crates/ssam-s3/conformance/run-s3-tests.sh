#!/usr/bin/env bash
# Runs ceph/s3-tests' functional selection against `ssam local start-s3 --strict-auth`.
# Everything third-party lives outside the repository (default /tmp/ssam-s3-tests); nothing
# fetched is committed. Usage: run-s3-tests.sh [SSAM_BIN] ; prints pytest's summary and
# writes the per-test results to $WORK/results.txt. The store is ephemeral unless
# DURABLE=1 (then a fresh durable store in $WORK/data, fsyncs and all).
set -euo pipefail
WORK=${WORK:-/tmp/ssam-s3-tests}
SSAM=${1:-$(cd "$(dirname "$0")/../../.." && pwd)/target/debug/ssam}
PORT=${PORT:-8123}
mkdir -p "$WORK"
[ -d "$WORK/s3-tests" ] || git clone -q https://github.com/ceph/s3-tests "$WORK/s3-tests"
[ -x "$WORK/venv/bin/pytest" ] || {
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q boto3 botocore munch gevent isodate requests pytz httplib2 lxml pytest PyYAML
}
cd "$WORK/s3-tests"
sed -e 's/^host = localhost/host = 127.0.0.1/' -e "s/^port = 8000/port = $PORT/" \
    -e 's/^bucket prefix = yournamehere-{random}-/bucket prefix = s3t-{random}-/' \
    s3tests.conf.SAMPLE > "$WORK/s3tests.conf"
# The selection: everything in test_s3.py except features a local S3 does not emulate
# (IAM/STS, bucket policies, ACL grants, encryption, object lock, lifecycle, logging,
# ownership controls, multi-tenant and anonymous-listing cases). See docs/s3-conformance.md.
EXCLUDE='logging|object_lock|policy|sse|kms|encrypt|_enc|lifecycle|restore|acl|access_bucket|block_public|public|ownership|website|cloud|storage_class|torrent|select|append|iam|sts|tenant|account|legal_hold|retention|grant|nonowner|requester|role|anonymous|anon_put|read_through|_user|abac|expected_bucket_owner|owner_enforced|owner_preferred|object_writer|delete_marker_expiration'
grep -o '^def test_[a-z0-9_]*' s3tests/functional/test_s3.py | sed 's/def //' | grep -vE "$EXCLUDE" \
  | sed 's|^|s3tests/functional/test_s3.py::|' > "$WORK/selection.txt"
if [ "${DURABLE:-0}" = 1 ]; then
  rm -rf "$WORK/data"
  STORE=(--data-dir "$WORK/data")
else
  STORE=(--ephemeral)
fi
"$SSAM" local start-s3 --port "$PORT" "${STORE[@]}" --strict-auth \
  --credential '0555b35654ad1656d804:h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q==' \
  --credential NOPQRSTUVWXYZABCDEFG:nopqrstuvwxyzabcdefghijklmnabcdefghijklm \
  --credential HIJKLMNOPQRSTUVWXYZA:opqrstuvwxyzabcdefghijklmnopqrstuvwxyzab \
  --credential ABCDEFGHIJKLMNOPQRST:abcdefghijklmnopqrstuvwxyzabcdefghijklmn > "$WORK/ssam.log" 2>&1 &
SSAM_PID=$!
trap 'kill $SSAM_PID 2>/dev/null || true' EXIT
sleep 1
S3TEST_CONF="$WORK/s3tests.conf" "$WORK/venv/bin/pytest" -q -p no:cacheprovider -rA --tb=line \
  $(cat "$WORK/selection.txt") > "$WORK/results.txt" 2>&1 || true
tail -1 "$WORK/results.txt"
