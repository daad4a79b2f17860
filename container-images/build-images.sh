#!/usr/bin/env bash
# Builds the capmesh service images on the local Docker engine, from the service jars:
#   capmesh/jre:17                      Debian's OpenJDK 17 JRE on capmesh/debian:bookworm (src/docker/jre)
#   capmesh/<service>:<version>, :latest  broker, core-runtime, data-runtime, ml-runtime, crypto-runtime (src/docker/service)
# Usage: build-images.sh [JAR_DIR [WORK_DIR [VERSION]]]; without JAR_DIR the jars come from each module's target/
# (build them first: ./mvnw -B -q install -DskipTests). Nothing is pulled: the Debian base is made locally by
# tools/containers/ensure-engine.sh, which this runs first (it also starts the engine when there is none).
# Each image is labelled with a hash of everything it is made from, so an unchanged image is not rebuilt.
set -eEuo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar_dir="${1:-}"
work="${2:-$here/target/docker}"
version="${3:-latest}"
logs=/tmp/capmesh-containers
export DOCKER_BUILDKIT=0  # the legacy builder: this engine has no BuildKit

say() { echo "[images] $* (${SECONDS}s)"; }
fail() { echo "[images] ERROR: $*" >&2; exit 1; }
trap 'fail "$0 stopped at line $LINENO"' ERR

bash "$root/tools/containers/ensure-engine.sh"
mkdir -p "$logs" "$work"
# Image builds share the engine with other builds on this machine: one at a time.
exec 8>"$logs/images.lock"
flock 8

image_id() { docker image inspect -f '{{.Id}}' "$1"; }
label_of() { docker image inspect -f '{{index .Config.Labels "capmesh.context-hash"}}' "$1" 2>/dev/null || true; }

# build TAG HASH CONTEXT [docker build arguments...]: builds unless TAG already carries HASH.
build() {
  local tag="$1" hash="$2" context="$3"; shift 3
  if [ "$(label_of "$tag")" = "$hash" ]; then
    say "$tag up to date"
    return
  fi
  say "building $tag (log: $logs/build-${tag//[\/:]/-}.log)"
  docker build --force-rm --label "capmesh.context-hash=$hash" -t "$tag" "$@" "$context" \
      >"$logs/build-${tag//[\/:]/-}.log" 2>&1 \
    || { tail -n 40 "$logs/build-${tag//[\/:]/-}.log" >&2; fail "docker build of $tag failed"; }
  say "$tag built"
}

base_id="$(image_id capmesh/debian:bookworm)"
jre_hash="$(cd "$here/src/docker/jre" && { echo "$base_id"; find . -type f -print0 | sort -z | xargs -0 cat; } \
  | sha256sum | cut -c1-16)"
build capmesh/jre:17 "$jre_hash" "$here/src/docker/jre"
jre_id="$(image_id capmesh/jre:17)"

# The images start and train their services with the scripts bin/service and the tests use.
start_scripts="$root/tools/service-start"
# service, module, gRPC port, management port
services=(
  "broker broker-service 9090 8090"
  "core-runtime core-runtime-service 9091 8091"
  "data-runtime data-runtime-service 9092 8092"
  "ml-runtime ml-runtime-service 9093 8093"
  "crypto-runtime crypto-runtime-service 9094 8094"
)
for entry in "${services[@]}"; do
  read -r service module grpc_port management_port <<<"$entry"
  jar="${jar_dir:+$jar_dir/capmesh-$module.jar}"
  jar="${jar:-$root/$module/target/capmesh-$module.jar}"
  [ -f "$jar" ] || fail "missing $jar: build it first (./mvnw -B -q install -DskipTests -pl $module)"
  agent="$(dirname "$jar")/capmesh-exit-guard.jar" # every runtime starts with the exit guard
  [ "$service" != broker ] || agent=
  [ -z "$agent" ] || [ -f "$agent" ] || fail "missing $agent: build it first (./mvnw -B -q install -DskipTests)"
  hash="$( { echo "$jre_id $service $grpc_port $management_port"; cat "$jar" ${agent:+"$agent"} "$here"/src/docker/service/* \
    "$start_scripts"/run "$start_scripts"/prepare; } \
    | sha256sum | cut -c1-16)"
  tag="capmesh/$service:$version"
  if [ "$(label_of "$tag")" != "$hash" ]; then
    # Spring Boot's own extraction: the application jar plus lib/, plain jars that class data sharing can archive.
    context="$work/$service"
    rm -rf "$context" && mkdir -p "$context"
    cp "$here"/src/docker/service/* "$start_scripts"/run "$start_scripts"/prepare "$context/"
    java -Djarmode=tools -jar "$jar" extract --destination "$context/app" >/dev/null
    mv "$context/app/$(basename "$jar")" "$context/app/app.jar"
    mkdir -p "$context/app/agents"
    [ -z "$agent" ] || cp "$agent" "$context/app/agents/"
  fi
  build "$tag" "$hash" "$work/$service" --build-arg SERVICE="$service" \
    --build-arg GRPC_PORT="$grpc_port" --build-arg MANAGEMENT_PORT="$management_port"
  [ "$version" = latest ] || docker tag "$tag" "capmesh/$service:latest"
done
