#!/bin/bash
# A Jupyter image for the notebook tests: hangar-test/notebook:latest, a minimal Debian 12 root
# (debootstrap --variant=minbase + python3, python3-numpy, Debian's Jupyter Notebook 6 server
# (jupyter-notebook, python3-notebook) and python3-ipykernel, ca-certificates) brought in with
# `docker import` by debootstrap-image.sh, like python-image.sh; no Docker registry involved.
# Packages come from the Debian mirror apt uses on this machine. Built once (a few minutes), then
# cached: the image carries the label hangar.recipe=<hash of the recipe below>, and a differing
# hash (recipe edited) rebuilds it.
# Idempotent; ~0.1-1 s when the image is current. Run as root after up.sh (needs dockerd);
# adds `export HANGAR_TEST_NOTEBOOK_IMAGE=...` to $STATE/env.extras. Progress goes to stderr.
# No notebook CMD: the caller passes its own command, e.g.
#   jupyter notebook --ip=0.0.0.0 --port=8888 --no-browser --allow-root \
#     --NotebookApp.token=SECRET --NotebookApp.base_url=/some/prefix/
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
STATE=${HANGAR_TEST_STATE:-/tmp/hangar-test}
IMAGE=${HANGAR_TEST_NOTEBOOK_IMAGE:-hangar-test/notebook:latest}
NAME=notebook-image
ENV_VAR=HANGAR_TEST_NOTEBOOK_IMAGE
# Not python-image.sh's cache folder: debootstrap writes the .debs in place (wget -O), and that
# script holds a different lock.
CACHE_NAME=debootstrap-notebook
# shellcheck source=debootstrap-image.sh
. "$(dirname "${BASH_SOURCE[0]}")/debootstrap-image.sh"

# ---------------------------------------------------------------- the recipe (hashed)

SUITE=bookworm
VARIANT=minbase
# debootstrap's resolver follows Depends but not virtual packages, so the providers of the two
# virtual ones in this tree are named: python3-cffi-backend (python3-cffi-backend-api-min/max,
# for python3-zmq and python3-argon2) and libboost-regex1.74.0 (libboost-regex1.74.0-icu72, for
# gdb's libsource-highlight4v5; gdb comes with python3-ipykernel -> python3-debugpy -> pydevd).
INCLUDE=python3,python3-numpy,ca-certificates,jupyter-notebook,python3-notebook,python3-ipykernel
INCLUDE+=,python3-cffi-backend,libboost-regex1.74.0
CHANGES=('CMD ["/bin/sh"]' 'ENV PYTHONUNBUFFERED=1' 'WORKDIR /code'
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'ENV LANG=C.UTF-8'
  'ENV PYDEVD_DISABLE_FILE_VALIDATION=1')
# (PYDEVD_DISABLE_FILE_VALIDATION: every kernel start otherwise logs debugpy's 4-line warning
# about Python 3.11's frozen modules.)

# The server and the kernel still import after slimming (it removes the packages' tests folders).
check_root() {
  [ -x "$1/usr/bin/jupyter-notebook" ] || die "debootstrap succeeded but the root has no jupyter-notebook"
  chroot "$1" /usr/bin/python3 -c 'import numpy, notebook.notebookapp, ipykernel.kernelapp' >"$TMP/check.out" 2>&1 || {
    cat "$TMP/check.out" >&2
    die "python3 -c 'import numpy, notebook.notebookapp, ipykernel.kernelapp' fails in the new root"
  }
}

build_image
