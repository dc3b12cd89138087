#!/bin/sh
# ssam-testkit stand-in for AWS's /lambda-entrypoint.sh (public.ecr.aws/lambda/python).
# Same contract: exactly one argument, the handler; it is exported as _HANDLER and
# /var/runtime/bootstrap talks to $AWS_LAMBDA_RUNTIME_API. There is no Runtime Interface
# Emulator in the stand-in, so the Runtime API address is required.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"

RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  if [ -x /usr/local/bin/aws-lambda-rie ]; then
    exec /usr/local/bin/aws-lambda-rie "$RUNTIME_ENTRYPOINT"
  fi
  echo "ssam-test lambda stand-in: AWS_LAMBDA_RUNTIME_API is not set and this image has no Runtime Interface Emulator; run it with -e AWS_LAMBDA_RUNTIME_API=HOST:PORT" 1>&2
  exit 1
fi
exec "$RUNTIME_ENTRYPOINT"
