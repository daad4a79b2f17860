#!/usr/bin/env bash
# Builds the capmesh service images on the local Docker engine, from the service jars, in layers shared from the most
# to the least common, so that a second image pulled fetches only its own:
#   capmesh/os:bookworm              C and C++ libraries, bash and busybox from Debian packages (src/docker/os)
#   capmesh/jre:<java version>       + a Java runtime jlink'd from the build's JDK (bin/java-home) (src/docker/jre)
#   capmesh/service-libs:<version>   + the libraries all five services use (Spring, gRPC, OpenTelemetry, ...)
#   capmesh/runtime-libs:<version>   + the libraries the four runtimes share (runtime host, leak analysis, ...)
#   capmesh/<service>:<version>, :latest  + the service's own libraries, its application jar and agents, and the start
#                                    cache of a training start in the image (src/docker/service): broker,
#                                    core-runtime, data-runtime, ml-runtime, crypto-runtime
# Native libraries bundled for other platforms (SQLite, ONNX Runtime, Netty) are left out: the images are for
# linux-x86_64. The sizes are printed at the end, against the targets of BENCHMARKS.md.
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
if ! command -v zip >/dev/null || ! command -v unzip >/dev/null; then
  say "installing zip and unzip (log: $logs/apt-zip.log)"
  { apt-get install -y --no-install-recommends zip unzip || { apt-get update && apt-get install -y \
      --no-install-recommends zip unzip; }; } >"$logs/apt-zip.log" 2>&1 \
    || fail "zip and unzip are needed and could not be installed (apt-get install zip unzip, as root)"
fi
java_home="$("$root/bin/java-home")"

image_id() { docker image inspect -f '{{.Id}}' "$1"; }
label_of() { docker image inspect -f '{{index .Config.Labels "capmesh.context-hash"}}' "$1" 2>/dev/null || true; }
hash_of() { sha256sum | cut -c1-16; }
# the hash of a directory's files: names and contents
tree_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0r sha256sum) | hash_of; }

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

# service, module, gRPC port, management port
services=(
  "broker broker-service 9090 8090"
  "core-runtime core-runtime-service 9091 8091"
  "data-runtime data-runtime-service 9092 8092"
  "ml-runtime ml-runtime-service 9093 8093"
  "crypto-runtime crypto-runtime-service 9094 8094"
)

# 1. Every service jar extracted as bin/service's are (tools/service-start/prepare: the application jar plus lib/, plain
#    jars a start cache can hold, and a runtime's exit guard), its libraries gathered once in libs/ with the other
#    platforms' natives left out.
start_scripts="$root/tools/service-start"
rm -rf "$work/extracted" "$work/libs"
mkdir -p "$work/extracted" "$work/libs"
for entry in "${services[@]}"; do
  read -r service module _ _ <<<"$entry"
  jar="${jar_dir:+$jar_dir/capmesh-$module.jar}"
  jar="${jar:-$root/$module/target/capmesh-$module.jar}"
  [ -f "$jar" ] || fail "missing $jar: build it first (./mvnw -B -q install -DskipTests -pl $module)"
  JAVA_HOME="$java_home" "$start_scripts/prepare" --extract "$jar" "$work/extracted/$service"
  for lib in "$work/extracted/$service/lib/"*.jar; do # one copy of each library; one name is one jar
    if [ ! -e "$work/libs/${lib##*/}" ]; then cp "$lib" "$work/libs/"
    else cmp -s "$lib" "$work/libs/${lib##*/}" || fail "two different ${lib##*/} in the service jars"; fi
  done
  ls "$work/extracted/$service/lib" >"$work/extracted/$service.libs"
done

# only_linux_x86_64 JAR NATIVES KEEP: deletes the JAR's entries (files and directories) matching the regular expression
# NATIVES but not KEEP (the linux-x86_64 libraries), and fails if no file would be kept: a new layout must be noticed.
only_linux_x86_64() {
  local jar="$1" natives="$2" keep="$3" drop
  unzip -Z1 "$jar" | grep -E "$natives" | grep -E "$keep" | grep -q '[^/]$' || fail "$(basename "$jar") holds no native library matching $keep"
  mapfile -t drop < <(unzip -Z1 "$jar" | grep -E "$natives" | grep -vE "$keep" || true)
  [ "${#drop[@]}" = 0 ] || zip -q -d "$jar" "${drop[@]}" >/dev/null
}
for jar in "$work/libs"/*.jar; do
  case "$(basename "$jar")" in
    onnxruntime-*.jar) only_linux_x86_64 "$jar" '^ai/onnxruntime/native/.' '^ai/onnxruntime/native/linux-x64/' ;;
    sqlite-jdbc-*.jar) only_linux_x86_64 "$jar" '^org/sqlite/native/.' '^org/sqlite/native/(Linux/|Linux/x86_64/.*)$' ;;
    grpc-netty-shaded-*.jar) only_linux_x86_64 "$jar" '^META-INF/native/.' '(_linux_x86_64|_epoll_x86_64)\.so$' ;;
  esac
done

# 2. The layers of libraries: in all five services, in all four runtimes, and each service's own.
runtimes=(core-runtime data-runtime ml-runtime crypto-runtime)
in_all() { # in_all SERVICE...: the names of the jars every SERVICE uses, sorted
  local common service; common="$(sort "$work/extracted/$1.libs")"; shift
  for service in "$@"; do common="$(comm -12 <(echo "$common") <(sort "$work/extracted/$service.libs"))"; done
  echo "$common"
}
layer() { # layer DIR JAR_NAMES_FILE: a new DIR with the named jars of libs/ in DIR/lib
  rm -rf "$1" && mkdir -p "$1/lib"
  while read -r name; do [ -z "$name" ] || cp "$work/libs/$name" "$1/lib/"; done <"$2"
}
in_all broker "${runtimes[@]}" >"$work/service-libs.list"
in_all "${runtimes[@]}" | comm -23 - "$work/service-libs.list" >"$work/runtime-libs.list"
layer "$work/service-libs" "$work/service-libs.list"
layer "$work/runtime-libs" "$work/runtime-libs.list"

# 3. The OS base and the Java runtime: java.se (the API extensions may use), what jdeps finds the services need, and
#    the JDK tools a person diagnosing a service reaches for (jcmd, JFR).
base_id="$(image_id capmesh/debian:bookworm)"
build capmesh/os:bookworm "$( { echo "$base_id"; cat "$here/src/docker/os/Dockerfile"; } | hash_of)" "$here/src/docker/os"
os_id="$(image_id capmesh/os:bookworm)"

release() { sed -n "s/^$1=\"\(.*\)\"\$/\1/p" "$java_home/release"; }
java_version="$(release JAVA_VERSION)"
java_build="$(release JAVA_RUNTIME_VERSION)"
[ -n "$java_build" ] || fail "$java_home/release names no JAVA_RUNTIME_VERSION: a start cache could not tell its Java"
major="${java_version%%.*}"
found="$("$java_home/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release "$major" -q --recursive \
  --class-path "$work/libs/*" "$work/extracted"/*/app.jar "$work/extracted"/*/agents/*.jar)" \
  || fail "jdeps could not tell the modules the services need"
modules="java.se,jdk.unsupported,jdk.management,jdk.crypto.ec,jdk.naming.dns,jdk.net,jdk.zipfs,jdk.jcmd,jdk.jfr,$found"
modules="$(tr ',' '\n' <<<"$modules" | sort -u | paste -sd, -)"
if [ "$major" -ge 21 ]; then
  jlink_options=(--compress=zip-6)
else # JDK 17: the classic compression, and the JDK's own archive, which a service's class data sharing builds on
  jlink_options=(--compress=2 --generate-cds-archive)
fi
jlink_options+=(--strip-debug --no-header-files --no-man-pages --add-modules "$modules"
  --release-info "add:JAVA_RUNTIME_VERSION=\"$java_build\"")
jre_tag="capmesh/jre:$java_version"
jre_hash="$( { echo "$os_id $java_home $java_build ${jlink_options[*]}"; cat "$here/src/docker/jre/Dockerfile"; } | hash_of)"
if [ "$(label_of "$jre_tag")" != "$jre_hash" ]; then
  rm -rf "$work/jre" && mkdir -p "$work/jre"
  cp "$here/src/docker/jre/Dockerfile" "$work/jre/"
  "$java_home/bin/jlink" "${jlink_options[@]}" --output "$work/jre/jre" >"$logs/jlink.log" 2>&1 \
    || { cat "$logs/jlink.log" >&2; fail "jlink of $java_home failed"; }
fi
build "$jre_tag" "$jre_hash" "$work/jre"
say "Java runtime: $java_build from $java_home, modules $modules"

# 4. The two layers of shared libraries, then the services.
for libs in service-libs runtime-libs; do
  parent="$jre_tag"; [ "$libs" = service-libs ] || parent="capmesh/service-libs:$version"
  cp "$here/src/docker/libs/Dockerfile" "$work/$libs/"
  build "capmesh/$libs:$version" "$( { image_id "$parent"; tree_hash "$work/$libs"; } | hash_of)" "$work/$libs" \
    --build-arg BASE="$parent"
  [ "$version" = latest ] || docker tag "capmesh/$libs:$version" "capmesh/$libs:latest"
done

# The images start and train their services with the scripts bin/service and the tests use.
for entry in "${services[@]}"; do
  read -r service _ grpc_port management_port <<<"$entry"
  parent="capmesh/runtime-libs:$version"; [ "$service" != broker ] || parent="capmesh/service-libs:$version"
  context="$work/$service"
  (cd "$work" && cat service-libs.list runtime-libs.list | sort | comm -13 - <(sort "extracted/$service.libs")) \
    >"$work/$service.list"
  layer "$context" "$work/$service.list"
  cp -r "$work/extracted/$service/app.jar" "$work/extracted/$service/agents" "$context/"
  cp "$here"/src/docker/service/* "$start_scripts"/run "$start_scripts"/prepare "$context/"
  tag="capmesh/$service:$version"
  build "$tag" "$( { image_id "$parent"; echo "$service $grpc_port $management_port"; tree_hash "$context"; } | hash_of)" \
    "$context" --build-arg BASE="$parent" --build-arg SERVICE="$service" \
    --build-arg GRPC_PORT="$grpc_port" --build-arg MANAGEMENT_PORT="$management_port"
  [ "$version" = latest ] || docker tag "$tag" "capmesh/$service:latest"
done
# earlier builds of these images, now untagged
docker image prune -f --filter label=capmesh.context-hash >/dev/null

# 5. Sizes, uncompressed: each layer group and each image whole, against the targets (BENCHMARKS.md).
bytes() { docker image inspect -f '{{.Size}}' "$1"; }
mb() { echo $(( ($1 + 500000) / 1000000 )); } # mb BYTES
size_line() { # size_line WHAT MEGABYTES TARGET
  printf '[images]   %-40s %4s MB  %s\n' "$1" "$2" "${3:+target $3 MB: $([ "$2" -le "$3" ] && echo met || echo over)}"
}
say "sizes (uncompressed):"
size_line "capmesh/os:bookworm" "$(mb "$(bytes capmesh/os:bookworm)")" ""
size_line "  + Java runtime ($jre_tag)" "$(mb $(( $(bytes "$jre_tag") - $(bytes capmesh/os:bookworm) )))" 80
size_line "  + libraries of all five" \
  "$(mb $(( $(bytes "capmesh/service-libs:$version") - $(bytes "$jre_tag") )))" ""
size_line "  + libraries of the four runtimes" \
  "$(mb $(( $(bytes "capmesh/runtime-libs:$version") - $(bytes "capmesh/service-libs:$version") )))" ""
for entry in "broker 150" "core-runtime 150" "data-runtime 170" "crypto-runtime 170" "ml-runtime 220"; do
  read -r service target <<<"$entry"
  tag="capmesh/$service:$version"
  cache="$(docker run --rm --entrypoint sh "$tag" -c 'cat /app/app.aot /app/app.jsa 2>/dev/null | wc -c')"
  size_line "$tag" "$(mb "$(bytes "$tag")")" "$target"
  size_line "  of which its start cache" "$(mb "$cache")" ""
done
