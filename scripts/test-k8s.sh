#!/usr/bin/env bash
# Renders deploy/k8s with `kubectl kustomize` and checks what it holds, then plays it with
# `podman kube play` (tests/stack/k8s: the image make test-container built, one replica, the
# pod's port on 127.0.0.1): ready on /healthz, the site served, the ConfigMap's settings in
# force, the drain on SIGTERM (503 on /healthz while / is still served), exit code 0, kube down.
#
# Usage: scripts/test-k8s.sh   (env: IMAGE=localhost/epserve:test, built if missing)
# Rootful podman, set up by shared/container/podman-sandbox.sh beside the repository.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-localhost/epserve:test}
PORT=18481  # tests/stack/k8s/play.yaml's hostPort
BASE="http://127.0.0.1:$PORT"

CONTAINER=epserve-pod-0-epserve  # podman names it POD-CONTAINER
TMP=$(mktemp -d "${TMPDIR:-/tmp}/epserve-k8s.XXXXXX")
PLAYED=no CONFIG_VOLUME=

log() { printf '[test-k8s] %s\n' "$*"; }
cleanup() {
  local status=$?
  set +e
  kube_teardown "$status" "$TMP/play.yaml" "$PLAYED" "$CONFIG_VOLUME" "$CONTAINER"
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Debian's kubernetes-client provides kubectl (with kustomize built in); a kubectl already here
# (another package) is used as it is.
command -v kubectl >/dev/null || bash "$REPO/scripts/install-deps.sh" kubernetes-client
command -v curl >/dev/null || die "curl is not installed"
use_podman_sandbox "$REPO"
log "kubectl $(kubectl version --client 2>/dev/null | head -n 1 | tr -d '\n'); $(podman --version)"
if ss -Htln "( sport = :$PORT )" 2>/dev/null | grep -q .; then die "127.0.0.1:$PORT is in use"; fi
if ! timeout 60 podman image exists "$IMAGE"; then
  log "building $IMAGE (make test-container builds it first in CI)"
  timeout 1800 podman build --format docker --pull=never -t "$IMAGE" "$REPO" >"$TMP/build.log" 2>&1 ||
    { tail -n 30 "$TMP/build.log" >&2; die "image build failed"; }
fi

# --- deploy/k8s as a user applies it.
timeout 60 kubectl kustomize "$REPO/deploy/k8s" >"$TMP/base.yaml" 2>"$TMP/kustomize.err" ||
  die "kubectl kustomize deploy/k8s: $(cat "$TMP/kustomize.err")"
for kind in ConfigMap Deployment Service HorizontalPodAutoscaler PodDisruptionBudget; do
  grep -qx "kind: $kind" "$TMP/base.yaml" || die "deploy/k8s renders no $kind"
done
for want in 'replicas: 3' 'readOnlyRootFilesystem: true' 'allowPrivilegeEscalation: false' \
  'runAsNonRoot: true' '- ALL' 'path: /healthz' 'terminationGracePeriodSeconds: 15' \
  'minAvailable: 2' 'averageUtilization: 70'; do
  grep -qF -- "$want" "$TMP/base.yaml" || die "deploy/k8s renders no '$want'"
done
log "kubectl kustomize deploy/k8s: ConfigMap, Deployment (3 replicas, probes on /healthz, read-only, no capabilities), Service, HPA, PDB"

# --- played with podman.
timeout 60 kubectl kustomize "$REPO/tests/stack/k8s" >"$TMP/play.yaml" 2>"$TMP/kustomize.err" ||
  die "kubectl kustomize tests/stack/k8s: $(cat "$TMP/kustomize.err")"
cm=$(sed -n 's/^  name: \(epserve-config-.*\)$/\1/p' "$TMP/play.yaml" | head -n 1)
timeout 30 podman volume exists "$cm" || CONFIG_VOLUME=$cm
t0=$(date +%s%N)
PLAYED=yes
timeout 120 podman kube play "$TMP/play.yaml" >"$TMP/play.out" 2>&1 ||
  die "podman kube play: $(cat "$TMP/play.out")"
status_of() { curl -s -o "$TMP/body" --max-time 5 -w '%{http_code}' "$BASE$1" 2>/dev/null; }
ready() { [ "$(status_of /healthz)" = 200 ]; }
wait_until 300 0.1 ready || die "the pod's /healthz is not 200 within 30 s"
READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(cat "$TMP/body")" = ok ] || die "/healthz body is '$(cat "$TMP/body")', not ok"
[ "$(status_of /)" = 200 ] || die "GET / through the pod is not 200"
cmp -s "$TMP/body" "$REPO/www/index.html" || die "the pod's / differs from www/index.html"
log "podman kube play: ready (/healthz 200 ok) ${READY_MS} ms after play; / is www/index.html"

uid=$(container_status podman "$CONTAINER" Uid)
[ "$uid" = 65532 ] || die "the pod's epserve runs as uid '$uid', not 65532"
caps=$(container_status podman "$CONTAINER" CapEff)
[ "$caps" = 0000000000000000 ] || die "the pod's epserve has capabilities $caps"
[ "$(timeout 30 podman inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$CONTAINER")" = true ] ||
  die "the pod's root filesystem is writable"
# The ConfigMap's epserve.toml is in force: JSON access-log lines.
timeout 30 podman logs "$CONTAINER" >"$TMP/logs.out" 2>/dev/null
grep -q '"target":"/"' "$TMP/logs.out" || die "no JSON access-log line: the ConfigMap's settings are not in force"
log "uid 65532, no effective capabilities, read-only root; the ConfigMap's settings (JSON log lines) in force"

# --- the drain: SIGTERM -> /healthz 503 at once while / is still served for --shutdown-delay
# (5 s), then exit 0, well inside terminationGracePeriodSeconds.
# The kubelet signals each container and leaves the pod's network up until they have exited; so
# does this (podman pod stop would take the infra container and its port mapping down at once).
t0=$(date +%s%N)
timeout 30 podman kill --signal TERM "$CONTAINER" >/dev/null || die "podman kill --signal TERM failed"
draining() { [ "$(status_of /healthz)" = 503 ]; }
wait_until 50 0.05 draining || die "/healthz did not answer 503 within 2.5 s of SIGTERM"
[ "$(cat "$TMP/body")" = draining ] || die "the 503 body is '$(cat "$TMP/body")'"
code=$(status_of /)
[ "$code" = 200 ] || die "/ is not served during --shutdown-delay ($code)"
exit_code=$(timeout 30 podman wait "$CONTAINER" 2>"$TMP/wait.err") || die "podman wait: $(cat "$TMP/wait.err")"
STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$exit_code" = 0 ] || die "the pod's epserve exited with $exit_code after SIGTERM"
(( STOP_MS >= 5000 && STOP_MS < 15000 )) || die "stop took $STOP_MS ms (want 5-15 s: the delay, then the drain)"
log "SIGTERM: /healthz 503 draining, / still 200; exit code 0 after ${STOP_MS} ms"
timeout 60 podman kube down "$TMP/play.yaml" >"$TMP/down.out" 2>&1 || die "podman kube down: $(cat "$TMP/down.out")"
PLAYED=no
log "podman kube down: exit 0"
echo "k8s: ready=${READY_MS}ms stop=${STOP_MS}ms exit=0"
echo "k8s: all checks passed"
