#!/usr/bin/env bash
# Makes sure a Docker engine is running and every image under tools/containers/images is built, so
# integration tests can use Testcontainers on a machine that starts with only a Docker client.
# Idempotent: when everything is already there it only asks the engine, which takes well under a second.
# No registry is reachable, so nothing is ever pulled: the base image is made with debootstrap.
set -eEuo pipefail  # -E: the ERR trap below also fires inside functions

here="$(cd "$(dirname "$0")" && pwd)"
base_image=capmesh/debian:bookworm
logs=/tmp/capmesh-containers
mkdir -p "$logs"
export DEBIAN_FRONTEND=noninteractive
# The legacy builder: this engine has no BuildKit/buildx.
export DOCKER_BUILDKIT=0

say() { echo "[containers] $* (${SECONDS}s)"; }  # seconds since this script started
fail() { echo "[containers] ERROR: $*" >&2; exit 1; }
trap 'fail "$0 stopped at line $LINENO"' ERR
# Runs a noisy command with its output in a log file; on failure shows the end of that log.
quiet() {
  local log="$logs/$1.log"; shift
  "$@" >"$log" 2>&1 || { tail -n 30 "$log" >&2; fail "'$*' failed (full log: $log)"; }
}

# Several modules (or a parallel build) may call this at once: one at a time.
exec 9>"$logs/lock"
flock 9

apt_install() {
  # The package lists may be missing or stale on a fresh machine: refresh them once, then retry.
  apt-get install -y --no-install-recommends "$@" >"$logs/apt.log" 2>&1 && return
  quiet apt-update apt-get update
  quiet apt apt-get install -y --no-install-recommends "$@"
}

# 1. Engine.
if docker info >/dev/null 2>&1; then
  say "engine: running"
else
  [ "$(id -u)" = 0 ] || fail "no Docker engine is reachable and installing one needs root"
  if ! command -v dockerd >/dev/null; then
    say "engine: installing docker.io"
    apt_install docker.io
  fi
  say "engine: starting dockerd (log: $logs/dockerd.log)"
  # Own session, no inherited stdio and not our lock (fd 9), so the engine outlives the Maven build
  # that started it and does not hold the lock forever.
  setsid dockerd >"$logs/dockerd.log" 2>&1 </dev/null 9>&- &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -n 20 "$logs/dockerd.log" >&2; fail "dockerd did not come up within 60 s"; }
  say "engine: running"
fi

# 2. Base image, made from the Debian mirror this machine's apt already uses.
if docker image inspect "$base_image" >/dev/null 2>&1; then
  say "base: $base_image present"
else
  mirror="$(sed -n 's/^URIs: *\([^ ]*\/debian\)\/\?$/\1/p; s/^deb \+\([^ ]*\/debian\)\/\? \+bookworm .*/\1/p' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1 || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  command -v debootstrap >/dev/null || { say "base: installing debootstrap"; apt_install debootstrap; }
  say "base: debootstrap bookworm from $mirror"
  root="$(mktemp -d /var/tmp/capmesh-rootfs.XXXXXX)"
  # --one-file-system: never follow a mount debootstrap may have left inside the tree (it can bind /dev).
  trap 'rm -rf --one-file-system "$root"' EXIT
  quiet debootstrap debootstrap --variant=minbase bookworm "$root" "$mirror"
  # Drop the downloaded .debs: they would only make the image bigger.
  rm -rf "$root"/var/cache/apt/archives/*.deb
  tar --one-file-system -C "$root" -c . | docker import - "$base_image" >/dev/null || fail "docker import of $base_image failed"
  rm -rf --one-file-system "$root"; trap - EXIT
  say "base: $base_image built"
fi

# 3. Project images: capmesh/<dir>:latest from images/<dir>/Dockerfile. Each image carries a hash of its
# build directory, so editing a Dockerfile or a file it copies rebuilds it; otherwise nothing is rebuilt.
for dockerfile in "$here"/images/*/Dockerfile; do
  [ -e "$dockerfile" ] || continue
  dir="$(dirname "$dockerfile")"
  tag="capmesh/$(basename "$dir"):latest"
  hash="$(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  have="$(docker image inspect -f '{{index .Config.Labels "capmesh.context-hash"}}' "$tag" 2>/dev/null || true)"
  if [ "$have" = "$hash" ]; then
    say "image: $tag up to date"
  else
    say "image: building $tag (log: $logs/build-$(basename "$dir").log)"
    quiet "build-$(basename "$dir")" \
      docker build --force-rm --label "capmesh.context-hash=$hash" -t "$tag" "$dir"
    say "image: $tag built"
  fi
done
