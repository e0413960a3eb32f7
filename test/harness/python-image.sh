#!/bin/bash
# A realistic training image for the tests: hangar-test/python:latest, a minimal Debian 12 root
# (debootstrap --variant=minbase + python3, python3-numpy, ca-certificates) brought in with
# `docker import`; no Docker registry involved. Packages come from the Debian mirror apt uses
# on this machine. Built once (a few minutes), then cached: the image carries the label
# hangar.recipe=<hash of the recipe below>, and a differing hash (recipe edited) rebuilds it.
# Idempotent; ~0.1-1 s when the image is current. Run as root after up.sh (needs dockerd);
# adds `export HANGAR_TEST_PYTHON_IMAGE=...` to $STATE/env.extras. Progress goes to stderr.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
STATE=${HANGAR_TEST_STATE:-/tmp/hangar-test}
IMAGE=${HANGAR_TEST_PYTHON_IMAGE:-hangar-test/python:latest}
NAME=python-image
ENV_VAR=HANGAR_TEST_PYTHON_IMAGE
CACHE_NAME=debootstrap
# shellcheck source=debootstrap-image.sh
. "$(dirname "${BASH_SOURCE[0]}")/debootstrap-image.sh"

# ---------------------------------------------------------------- the recipe (hashed)

SUITE=bookworm
VARIANT=minbase
INCLUDE=python3,python3-numpy,ca-certificates
CHANGES=('CMD ["/bin/sh"]' 'ENV PYTHONUNBUFFERED=1' 'WORKDIR /code'
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'ENV LANG=C.UTF-8')

check_root() {
  [ -x "$1/usr/bin/python3" ] || die "debootstrap succeeded but the root has no python3"
}

build_image
