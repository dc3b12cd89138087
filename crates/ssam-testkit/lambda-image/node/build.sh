#!/bin/bash
# Builds a local stand-in for AWS's Lambda Node.js base image (public.ecr.aws/lambda/nodejs)
# in a few seconds, with no registry: a rootfs copied from the host (its /usr/bin/node, the
# shared libraries `ldd` names, dash as /bin/sh, busybox when the shared download cache has
# it), the testkit's own Runtime API client in /var/runtime, then `docker import --change ...`.
#
# usage: build.sh TAG RECIPE_HASH CACHE_DIR
#   TAG          the image to create (e.g. ssam-test/lambda-nodejs-base:20)
#   RECIPE_HASH  stored in the label ssam-test.recipe (the caller compares it to skip rebuilds)
#   CACHE_DIR    downloads kept between builds (the busybox-static .deb, shared with the
#                Python stand-in)
# env: SSAM_TEST_HOST_NODE (default /usr/bin/node) must be a Node.js that needs nothing but
#      the shared libraries ldd lists (Debian's and the official builds do).
#      The files lambda-entrypoint.sh (the Python stand-in's, the same contract), bootstrap
#      and index.js are read from this script's directory.
set -euo pipefail

tag=${1:?usage: build.sh TAG RECIPE_HASH CACHE_DIR}
recipe=${2:?usage: build.sh TAG RECIPE_HASH CACHE_DIR}
cache=${3:?usage: build.sh TAG RECIPE_HASH CACHE_DIR}
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "[lambda-image] $*" >&2; }
die() { say "error: $*"; exit 1; }

node=${SSAM_TEST_HOST_NODE:-/usr/bin/node}
[ -x "$node" ] || die "no host Node.js at $node (apt-get install nodejs; or set SSAM_TEST_HOST_NODE)"
node=$(readlink -f "$node")
major=$("$node" -p 'process.versions.node.split(".")[0]') || die "$node does not run"
if ldd "$node" | grep -q 'libnode'; then
  die "$node links libnode dynamically; use a Node.js built as one binary (set SSAM_TEST_HOST_NODE)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ssam-lambda-image-node.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$cache"

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

# --- rootfs: usr-merged like Debian, AWS's /var/lang, /var/runtime, /var/task, /opt ----------
mkdir -p "$root"/usr/{bin,sbin,lib,lib64,local/bin} "$root"/{etc,root,tmp,opt} \
  "$root"/var/{lang/bin,runtime,task,tmp} "$root"/{proc,sys,dev}
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"

cp -L "$node" "$root/var/lang/bin/node"
cp -L "$(command -v dash)" "$root/usr/bin/dash"
ln -s dash "$root/usr/bin/sh"
cp -L "$(command -v env)" "$root/usr/bin/env"
if [ -n "$busybox" ]; then
  cp "$busybox" "$root/usr/bin/busybox"
  for applet in $("$busybox" --list); do
    [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
  done
fi

ldd "$node" "$root/usr/bin/dash" "$root/usr/bin/env" |
  awk '/=> \// { print $3 } /^[[:space:]]+\// { print $1 }' | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
done

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' \
  >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"

# The AWS contract: /lambda-entrypoint.sh HANDLER -> /var/runtime/bootstrap -> node index.js.
install -m 755 "$here/lambda-entrypoint.sh" "$root/lambda-entrypoint.sh"
sed "s/@MAJOR@/$major/g" "$here/bootstrap" >"$root/var/runtime/bootstrap"
chmod 755 "$root/var/runtime/bootstrap"
install -m 644 "$here/index.js" "$root/var/runtime/index.js"

env_change="ENV LANG=en_US.UTF-8 TZ=:/etc/localtime \
PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin \
LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \
LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime"

tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
  docker import \
    --change "$env_change" \
    --change 'WORKDIR /var/task' \
    --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
    --change "LABEL ssam-test.recipe=$recipe ssam-test.node=$major" \
    - "$tag" >/dev/null
say "built $tag (node $major, recipe $recipe)"
