#!/bin/bash
# Shared by python-image.sh and notebook-image.sh: build a Debian root with debootstrap, slim
# it, `docker import` it as $IMAGE labelled with its recipe hash, and add `export $ENV_VAR=…` to
# $STATE/env.extras. The caller sets STATE, NAME, IMAGE, ENV_VAR, CACHE_NAME, SUITE, VARIANT,
# INCLUDE, CHANGES and check_root ROOT (run on the slimmed root, dies when it lacks what the tests
# need), optionally trim_root ROOT (removes more, after slim_root, before check_root), sources
# this file and calls build_image.

log() { printf 'harness: %s: %s\n' "$NAME" "$*" >&2; }
die() {
  printf 'harness: %s: ERROR: %s\n' "$NAME" "$*" >&2
  exit 1
}

# Slim the root down (apt lists and caches, docs, man pages, translations, logs, the test
# suites of Python packages (numpy's: 15 MB), host files that debootstrap copied in) and keep
# later `apt-get install`s in the container slim too.
slim_root() {
  local r=$1
  rm -rf "${r:?}"/var/lib/apt/lists/* "${r:?}"/var/cache/apt/*.bin "${r:?}"/var/cache/apt/archives/*.deb \
    "${r:?}"/var/cache/debconf/*-old "${r:?}"/var/lib/dpkg/*-old "${r:?}"/debootstrap \
    "${r:?}"/usr/share/doc/* "${r:?}"/usr/share/man/* "${r:?}"/usr/share/info/* "${r:?}"/usr/share/lintian/* \
    "${r:?}"/tmp/* "${r:?}"/var/tmp/* "${r:?}"/dev/*
  find "${r:?}"/usr/share/locale -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  find "${r:?}"/var/log -type f -delete
  find "${r:?}"/usr/lib/python3/dist-packages -type d -name tests -prune -exec rm -rf {} +
  : >"${r:?}"/etc/resolv.conf
  rm -f "${r:?}"/etc/hostname
  mkdir -p "${r:?}"/code
  cat >"${r:?}"/etc/dpkg/dpkg.cfg.d/hangar-slim <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
CFG
  cat >"${r:?}"/etc/apt/apt.conf.d/hangar-slim <<'CFG'
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
CFG
}

# The hash of what decides the image's contents (its label tells a current image from a stale one).
recipe_hash() {
  {
    printf '%s\n' "$SUITE" "$VARIANT" "$INCLUDE" "${CHANGES[@]}"
    declare -f slim_root
    if declare -F trim_root >/dev/null; then declare -f trim_root; fi
  } | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- helpers

# The first `deb` source for $SUITE main that apt uses here (one-line .list or deb822 .sources).
debian_mirror() {
  local f files=()
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*; do
    case $f in *.list | *.sources) [ -f "$f" ] && files+=("$f") ;; esac
  done
  for f in "${files[@]}"; do
    case $f in
      *.sources)
        awk -v suite="$SUITE" '
          function has(list, w,   a, n, i) { n = split(list, a, /[ \t]+/); for (i = 1; i <= n; i++) if (a[i] == w) return 1; return 0 }
          function flush() {
            if (types != "" && has(types, "deb") && has(suites, suite) && has(comps, "main") && tolower(enabled) != "no" && uris != "") {
              split(uris, u, /[ \t]+/); print u[1]; found = 1; exit
            }
            types = suites = comps = uris = enabled = ""
          }
          /^[ \t]*#/ { next }
          /^[ \t]*$/ { flush(); next }
          /^[ \t]/ { next }
          {
            key = tolower($0); sub(/:.*/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
            if (key == "types") types = val; else if (key == "uris") uris = val
            else if (key == "suites") suites = val; else if (key == "components") comps = val
            else if (key == "enabled") enabled = val
          }
          END { if (!found) flush() }' "$f"
        ;;
      *)
        awk -v suite="$SUITE" '
          { sub(/#.*/, "") }
          $1 == "deb" {
            i = 2
            if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
            if ($(i + 1) != suite) next
            for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit }
          }' "$f"
        ;;
    esac
  done | grep -m1 -E '^(https?|file):' || true
}

cleanup() {
  [ -n "${TMP:-}" ] && [ -d "$TMP" ] || return 0
  # debootstrap unmounts /proc, /sys, ... of the target itself, unless it was killed.
  awk -v p="$TMP/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$TMP"
}

update_env_extras() {
  local extras=$STATE/env.extras line tmp
  line="export $ENV_VAR=\"$IMAGE\""
  if [ -f "$extras" ] && grep -qxF "$line" "$extras" &&
    [ "$(grep -c "^export $ENV_VAR=" "$extras")" = 1 ]; then
    return 0
  fi
  tmp=$(mktemp "$extras.XXXXXX")
  { grep -v "^export $ENV_VAR=" "$extras" 2>/dev/null || true; } >"$tmp"
  printf '%s\n' "$line" >>"$tmp"
  if [ -f "$extras" ]; then chmod --reference="$extras" "$tmp"; else chmod 644 "$tmp"; fi
  mv -f "$tmp" "$extras"
}

image_recipe() { docker image inspect -f '{{index .Config.Labels "hangar.recipe"}}' "$IMAGE" 2>/dev/null; }

build_image() {
  local current started old_id new_id size change_args c
  RECIPE_HASH=$(recipe_hash)
  mkdir -p "$STATE"
  exec 8>"$STATE/.$NAME.lock"
  flock -w 1800 8 || die "another $NAME.sh holds $STATE/.$NAME.lock for 30 minutes"

  current=$(image_recipe || true)
  if [ "$current" = "$RECIPE_HASH" ]; then
    update_env_extras
    return 0
  fi

  started=$SECONDS
  [ "$(id -u)" = 0 ] || die "run as root (debootstrap needs chroot)"
  docker info >/dev/null 2>&1 || die "docker does not answer (run test/harness/up.sh first)"
  if [ -n "$current" ]; then
    log "$IMAGE has recipe $current, want $RECIPE_HASH: rebuilding"
  elif docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "$IMAGE has no hangar.recipe label: rebuilding"
  else
    log "building $IMAGE (recipe $RECIPE_HASH; takes a few minutes)"
  fi
  old_id=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)

  if ! [ -x /usr/sbin/debootstrap ]; then
    log "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends debootstrap </dev/null >/dev/null 2>&1 || {
      apt-get update -q </dev/null >/dev/null && apt-get install -y -q --no-install-recommends debootstrap </dev/null >/dev/null
    } || die "could not install debootstrap"
  fi

  MIRROR=${HANGAR_TEST_DEBIAN_MIRROR:-$(debian_mirror)}
  [ -n "$MIRROR" ] || die "no 'deb' source for $SUITE main in /etc/apt/sources.list{,.d/*}; set HANGAR_TEST_DEBIAN_MIRROR"
  ARCH=$(dpkg --print-architecture)
  log "debootstrap --variant=$VARIANT --include=$INCLUDE $SUITE ($ARCH) from $MIRROR"

  CACHE=$STATE/cache/$CACHE_NAME-$SUITE-$ARCH # downloaded .debs, checked against the Release
  mkdir -p "$CACHE"
  TMP=$(mktemp -d "${HANGAR_TEST_BUILD_DIR:-/var/tmp}/hangar-$NAME.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  # Only the stage lines go to stderr; the full output is kept for errors.
  if ! /usr/sbin/debootstrap --variant="$VARIANT" --include="$INCLUDE" --arch="$ARCH" \
    --cache-dir="$CACHE" "$SUITE" "$TMP/root" "$MIRROR" </dev/null 2>&1 |
    tee "$TMP/debootstrap.out" |
    { grep --line-buffered -E '^(I: (Retrieving (InRelease|Release|Packages)|Resolving|Checking component|Installing core|Unpacking the base|Configuring the base|Base system)|[WE]: )' |
      sed -u "s/^/harness: $NAME:   /" >&2 || true; }; then
    log "debootstrap failed; last lines of its output:"
    tail -n 20 "$TMP/debootstrap.out" >&2 || true
    if [ -f "$TMP/root/debootstrap/debootstrap.log" ]; then
      log "last lines of debootstrap.log:"
      tail -n 40 "$TMP/root/debootstrap/debootstrap.log" >&2
    fi
    exit 1
  fi

  # Unmount anything still mounted in the root before touching /dev.
  awk -v p="$TMP/root/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  slim_root "$TMP/root"
  if declare -F trim_root >/dev/null; then trim_root "$TMP/root"; fi
  check_root "$TMP/root"
  log "root is $(du -sh --apparent-size "$TMP/root" | cut -f1); importing"

  change_args=()
  for c in "${CHANGES[@]}" "LABEL hangar.recipe=$RECIPE_HASH"; do change_args+=(--change "$c"); done
  tar -C "$TMP/root" --numeric-owner -c . | docker import "${change_args[@]}" - "$IMAGE" >/dev/null ||
    die "docker import failed"

  new_id=$(docker image inspect -f '{{.Id}}' "$IMAGE")
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    docker rmi "$old_id" >/dev/null 2>&1 || true # still used by a container: leave it
  fi
  size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
  log "built $IMAGE ($((size / 1000000)) MB) in $((SECONDS - started)) s"
  update_env_extras
}
