#!/bin/bash
# Builds a local stand-in for AWS's Lambda Python base image (public.ecr.aws/lambda/python)
# in a few seconds, with no registry: a rootfs copied from the host (its Debian python3.11,
# the shared libraries `ldd` names, dash as /bin/sh, an optional static busybox), awslambdaric
# and pip from PyPI, then `docker import --change ...`.
#
# usage: build.sh TAG RECIPE_HASH CACHE_DIR
#   TAG          the image to create (e.g. ssam-test/lambda-python-base:3.11)
#   RECIPE_HASH  stored in the label ssam-test.recipe (the caller compares it to skip rebuilds)
#   CACHE_DIR    downloads kept between builds (wheels, the busybox-static .deb)
# env: SSAM_TEST_HOST_PYTHON (default /usr/bin/python3.11) must be a relocatable Python with
#      a statically linked libpython (Debian's is; pyenv's is not).
#      The files lambda-entrypoint.sh and bootstrap are read from this script's directory.
set -euo pipefail

tag=${1:?usage: build.sh TAG RECIPE_HASH CACHE_DIR}
recipe=${2:?usage: build.sh TAG RECIPE_HASH CACHE_DIR}
cache=${3:?usage: build.sh TAG RECIPE_HASH CACHE_DIR}
here=$(cd "$(dirname "$0")" && pwd)

AWSLAMBDARIC=awslambdaric==4.2.2
PIP=pip==26.3
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
export PIP_ROOT_USER_ACTION=ignore

say() { echo "[lambda-image] $*" >&2; }
die() { say "error: $*"; exit 1; }

py=${SSAM_TEST_HOST_PYTHON:-/usr/bin/python3.11}
[ -x "$py" ] || die "no host Python at $py (Debian's python3.11; set SSAM_TEST_HOST_PYTHON)"
py=$(readlink -f "$py")
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
stdlib=$("$py" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')
dynload=$("$py" -c 'import _json, os; print(os.path.dirname(_json.__file__))' 2>/dev/null ||
  echo "$stdlib/lib-dynload")
if ldd "$py" | grep -q libpython; then
  die "$py links libpython dynamically; use a Python with a static libpython (Debian's /usr/bin/python3.11)"
fi

# A pip for the host side (only used with --target/-d, never installs on the host).
host_pip=
for cand in "$py" python3 "${SSAM_TEST_PYTHON:-}"; do
  [ -n "$cand" ] || continue
  if "$cand" -m pip --version >/dev/null 2>&1; then host_pip=$cand; break; fi
done
[ -n "$host_pip" ] || die "no pip on the host (tried $py -m pip, python3 -m pip, \$SSAM_TEST_PYTHON -m pip)"

work=$(mktemp -d "${TMPDIR:-/tmp}/ssam-lambda-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
wheels=$cache/wheels
mkdir -p "$wheels"

# --- downloads (cached; PyPI only when the cache lacks a requirement) ---------------------
pip_platform=(--only-binary=:all: --platform manylinux2014_x86_64 --python-version "$pyver"
  --implementation cp)
fetch_wheels() {
  "$host_pip" -m pip download -q --disable-pip-version-check --no-index --find-links "$wheels" \
    -d "$wheels" "${pip_platform[@]}" "$@" >/dev/null 2>&1 ||
    "$host_pip" -m pip download -q --disable-pip-version-check -d "$wheels" "${pip_platform[@]}" "$@" ||
    die "pip download $* failed (PyPI unreachable?)"
}
fetch_wheels "$AWSLAMBDARIC" "$PIP"

busybox=
if ! ls "$cache"/busybox-static_*.deb >/dev/null 2>&1 && command -v apt-get >/dev/null; then
  (cd "$cache" && apt-get download -q busybox-static >/dev/null 2>&1) ||
    say "warning: apt-get download busybox-static failed; the image has no busybox (RUN mkdir etc. won't work)"
fi
deb=$(ls "$cache"/busybox-static_*.deb 2>/dev/null | tail -n1 || true)
if [ -n "$deb" ]; then
  mkdir -p "$work/bb"
  dpkg-deb -x "$deb" "$work/bb"
  busybox=$work/bb/bin/busybox
  [ -x "$busybox" ] || busybox=
fi

# --- rootfs: usr-merged like Debian ----------------------------------------------------------
mkdir -p "$root"/usr/{bin,sbin,lib,lib64,local/bin,local/lib} "$root"/{etc/ssl/certs,root,tmp,opt} \
  "$root"/var/{lang/bin,lang/lib,runtime,task,tmp} "$root"/{proc,sys,dev}
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"

# Python: the binary and its stdlib at the host's paths, so its prefix (and Debian's site
# layout: /usr/lib/python3/dist-packages, /usr/local/lib/python3.X/dist-packages) holds.
cp -L "$py" "$root$py"
tar -C / -c \
  --exclude="${stdlib#/}/test" --exclude="${stdlib#/}/idlelib" --exclude="${stdlib#/}/tkinter" \
  --exclude="${stdlib#/}/turtledemo" --exclude="${stdlib#/}/ensurepip" \
  --exclude="${stdlib#/}/lib2to3" --exclude="${stdlib#/}/config-*" \
  --exclude="${stdlib#/}/site-packages" --exclude="${stdlib#/}/dist-packages" \
  --exclude="${stdlib#/}/EXTERNALLY-MANAGED" \
  "${stdlib#/}" | tar -C "$root" -x
case "$dynload" in "$stdlib"/*) ;; *) mkdir -p "$root$dynload" && cp -L "$dynload"/*.so "$root$dynload"/ ;; esac
ln -s "$py" "$root/var/lang/bin/python$pyver"
ln -s "python$pyver" "$root/var/lang/bin/python3"
ln -s "python$pyver" "$root/var/lang/bin/python"

# A shell (dash, like Debian's /bin/sh), env, and busybox for the rest of a userland.
cp -L "$(command -v dash)" "$root/usr/bin/dash"
ln -s dash "$root/usr/bin/sh"
cp -L "$(command -v env)" "$root/usr/bin/env"
if [ -n "$busybox" ]; then
  cp "$busybox" "$root/usr/bin/busybox"
  # One process for ~400 links; existing names (sh, env) stay.
  "$busybox" --list | "$py" -c '
import os, sys
bindir = sys.argv[1]
for applet in sys.stdin.read().split():
    if not os.path.lexists(os.path.join(bindir, applet)):
        os.symlink("busybox", os.path.join(bindir, applet))
' "$root/usr/bin"
fi

# awslambdaric in /var/runtime (as in AWS's images), pip in Debian's dist-packages.
install_target() {
  "$host_pip" -m pip install -q --disable-pip-version-check --no-compile --no-index \
    --find-links "$wheels" "${pip_platform[@]}" --target "$@"
}
install_target "$root/var/runtime" "$AWSLAMBDARIC" &
runtime_job=$!
install_target "$root/usr/lib/python3/dist-packages" "$PIP" || die "pip install --target ... $PIP failed"
wait "$runtime_job" || die "pip install --target /var/runtime $AWSLAMBDARIC failed"
rm -rf "$root/var/runtime/bin" "$root/usr/lib/python3/dist-packages/bin"
for name in pip pip3 "pip$pyver"; do
  printf '#!/bin/sh\nexec /var/lang/bin/python%s -m pip "$@"\n' "$pyver" >"$root/var/lang/bin/$name"
  chmod 755 "$root/var/lang/bin/$name"
done

# Shared libraries: everything ldd names for the binaries and extension modules (awslambdaric's
# runtime_client needs libstdc++/libgcc_s; without them it falls back to None and crashes).
{
  ldd "$py" "$root/usr/bin/dash" "$root/usr/bin/env"
  find "$root$dynload" "$root/var/runtime" -name '*.so*' -type f -exec ldd {} + 2>/dev/null || true
} | awk '/=> \// { print $3 } /^[[:space:]]+\// { print $1 }' | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
done

# /etc: users, name resolution, the host CA bundle (containers here reach PyPI through a local CA).
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
  >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
ca_env=()
if [ -f "$CA_BUNDLE" ]; then
  cp -L "$CA_BUNDLE" "$root$CA_BUNDLE"
  ca_env=("PIP_CERT=$CA_BUNDLE" "SSL_CERT_FILE=$CA_BUNDLE" "REQUESTS_CA_BUNDLE=$CA_BUNDLE")
else
  say "warning: no $CA_BUNDLE on the host; pip inside the image may not reach PyPI"
fi

# The AWS contract: /lambda-entrypoint.sh HANDLER -> /var/runtime/bootstrap.
install -m 755 "$here/lambda-entrypoint.sh" "$root/lambda-entrypoint.sh"
sed "s/@PYVER@/$pyver/g" "$here/bootstrap" >"$root/var/runtime/bootstrap"
chmod 755 "$root/var/runtime/bootstrap"

env_change="ENV LANG=C.UTF-8 TZ=:/etc/localtime \
PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin \
LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \
LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime \
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore ${ca_env[*]}"

tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
  docker import \
    --change "$env_change" \
    --change 'WORKDIR /var/task' \
    --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
    --change "LABEL ssam-test.recipe=$recipe ssam-test.python=$pyver" \
    - "$tag" >/dev/null
say "built $tag (python $pyver, recipe $recipe)"
