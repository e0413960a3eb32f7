#!/bin/bash
# A distributed-training image for the multi-node tests: hangar-test/torch:latest, a minimal
# Debian 12 root (debootstrap --variant=minbase + python3-torch 1.13, CPU only: torch.distributed
# with the Gloo backend) brought in with `docker import` by debootstrap-image.sh, like
# python-image.sh; no Docker registry involved. Packages come from the Debian mirror apt uses on
# this machine. Built once (several minutes: libtorch and its dependencies are ~1 GB), then
# cached: the image carries the label hangar.recipe=<hash of the recipe below>, and a differing
# hash (recipe edited) rebuilds it.
# Idempotent; ~0.1-1 s when the image is current. Run as root after up.sh (needs dockerd);
# adds `export HANGAR_TEST_TORCH_IMAGE=...` to $STATE/env.extras. Progress goes to stderr.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
STATE=${HANGAR_TEST_STATE:-/tmp/hangar-test}
IMAGE=${HANGAR_TEST_TORCH_IMAGE:-hangar-test/torch:latest}
NAME=torch-image
ENV_VAR=HANGAR_TEST_TORCH_IMAGE
# Its own cache folder and lock: debootstrap writes the .debs in place (wget -O).
CACHE_NAME=debootstrap-torch
# shellcheck source=debootstrap-image.sh
. "$(dirname "${BASH_SOURCE[0]}")/debootstrap-image.sh"

# ---------------------------------------------------------------- the recipe (hashed)

SUITE=bookworm
VARIANT=minbase
# debootstrap's resolver follows Depends but not virtual packages, so the providers of the
# virtual ones in libtorch's tree are named: libblas3/liblapack3 (libblas.so.3, liblapack.so.3)
# and ocl-icd-libopencl1 (libopencl1).
INCLUDE=python3,python3-torch,ca-certificates,libblas3,liblapack3,ocl-icd-libopencl1
CHANGES=('CMD ["/bin/sh"]' 'ENV PYTHONUNBUFFERED=1' 'WORKDIR /code'
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'ENV LANG=C.UTF-8')

# What a CPU-only torch never loads (import torch maps ~310 libraries, none of these): libtorch's
# test programs (50 MB) and Mesa's GL drivers with the LLVM and Z3 they link (~160 MB), pulled in
# through OpenCV's GUI. Their packages stay installed: dpkg still lists them.
trim_root() {
  rm -rf "${1:?}"/usr/lib/libtorch-test "${1:?}"/usr/lib/x86_64-linux-gnu/dri
  rm -f "${1:?}"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "${1:?}"/usr/lib/x86_64-linux-gnu/libz3.so*
}

# Torch still imports after slimming, and Gloo is there. (Python needs /dev/urandom, /dev/null;
# slim_root emptied /dev, Docker fills it in containers.)
check_root() {
  local ok=0
  mknod -m 666 "$1/dev/null" c 1 3
  mknod -m 444 "$1/dev/urandom" c 1 9
  chroot "$1" /usr/bin/python3 -c 'import torch, torch.distributed as d; assert d.is_gloo_available()' \
    >"$TMP/check.out" 2>&1 || ok=$?
  rm -f "$1/dev/null" "$1/dev/urandom"
  [ "$ok" = 0 ] || {
    cat "$TMP/check.out" >&2
    die "python3 -c 'import torch' (with Gloo) fails in the new root"
  }
}

build_image
