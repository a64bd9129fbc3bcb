#!/usr/bin/env bash
# Renders deploy/k8s/django (the Django stack as one pod: epserve and mysite under uWSGI sharing
# the socket on an emptyDir) with `kubectl kustomize` and checks its structure, then plays it with
# `podman kube play` (tests/stack/k8s-django: the local images, the pod's port on 127.0.0.1):
# ready, /polls/ with the seeded polls, a vote written to the database, /static/ files served by
# epserve byte for byte as collected in the app image, Django's 404, both containers non-root on
# read-only roots; then the kubelet's stop order (epserve drains while uWSGI still answers, then
# uWSGI), exit code 0 from both, and `podman kube down`. Part of `make test-k8s`.
#
# Usage: scripts/test-k8s-django.sh
#   env: IMAGE=localhost/epserve:test (make test-container's), APP_IMAGE=
#   localhost/epserve-example-mysite:latest (make test-stack's); each is built if missing.
# Rootful podman, set up by shared/container/podman-sandbox.sh beside the repository.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-localhost/epserve:test}
APP_IMAGE=${APP_IMAGE:-localhost/epserve-example-mysite:latest}
PORT=18482  # tests/stack/k8s-django/play.yaml's hostPort
BASE="http://127.0.0.1:$PORT"
CURL=(curl -sS --max-time 10)

POD=epserve-django-pod-0
WEB=$POD-epserve APP=$POD-mysite  # podman names them POD-CONTAINER
# The emptyDirs, which podman 4.x makes into volumes of these names (removed by kube down).
VOLUMES=(tmp mysite-socket mysite-static mysite-data)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/epserve-k8s-django.XXXXXX")
PLAYED=no CONFIG_VOLUME=

log() { printf '[test-k8s-django] %s\n' "$*"; }
cleanup() {
  local status=$?
  set +e
  kube_teardown "$status" "$TMP/play.yaml" "$PLAYED" "$CONFIG_VOLUME" "$WEB" "$APP"
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v kubectl >/dev/null || bash "$REPO/scripts/install-deps.sh" kubernetes-client
command -v curl >/dev/null || die "curl is not installed"
python3 -c 'import yaml, tomllib' 2>/dev/null || die "python3 with yaml and tomllib is needed (apt-get install python3-yaml)"
use_podman_sandbox "$REPO"
if ss -Htln "( sport = :$PORT )" 2>/dev/null | grep -q .; then die "127.0.0.1:$PORT is in use"; fi
# CI builds both images before (make test-container, make test-stack): reuse them.
build_if_missing() {
  local image=$1 dir=$2
  timeout 60 podman image exists "$image" && return 0
  log "building $image from ${dir#"$REPO"/} (CI's earlier targets build it first)"
  timeout 1800 podman build --format docker --pull=never -t "$image" "$dir" >"$TMP/build.log" 2>&1 ||
    { tail -n 30 "$TMP/build.log" >&2; die "building $image failed"; }
}
build_if_missing "$IMAGE" "$REPO"
build_if_missing "$APP_IMAGE" "$REPO/examples/django"

# --- deploy/k8s/django as a user applies it: the pod's structure, checked field by field.
timeout 60 kubectl kustomize "$REPO/deploy/k8s/django" >"$TMP/base.yaml" 2>"$TMP/kustomize.err" ||
  die "kubectl kustomize deploy/k8s/django: $(cat "$TMP/kustomize.err")"
python3 - "$TMP/base.yaml" >"$TMP/check.out" 2>&1 <<'EOF' || die "deploy/k8s/django: $(cat "$TMP/check.out")"
import sys, tomllib, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
def need(cond, what):
    if not cond:
        sys.exit(what)
need(set(docs) == {"ConfigMap", "Deployment", "Service"}, f"kinds {sorted(docs)}")
dep = docs["Deployment"]
pod = dep["spec"]["template"]["spec"]
need(dep["spec"]["replicas"] == 1, "replicas is not 1 (sqlite in the pod)")
need(pod["securityContext"].get("runAsNonRoot") is True, "pod: runAsNonRoot")
need(pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", "pod: seccomp")
need(pod.get("automountServiceAccountToken") is False, "pod: service account token mounted")
ctr = {c["name"]: c for c in pod["containers"]}
init = pod.get("initContainers", [])
need(set(ctr) == {"epserve", "mysite"}, f"containers {sorted(ctr)}")
need([c["name"] for c in init] == ["prepare"], "no initContainer 'prepare'")
for c in list(ctr.values()) + init:
    sc, n = c["securityContext"], c["name"]
    need(sc.get("allowPrivilegeEscalation") is False, f"{n}: allowPrivilegeEscalation")
    need(sc.get("readOnlyRootFilesystem") is True, f"{n}: readOnlyRootFilesystem")
    need(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{n}: capabilities not all dropped")
    need(sc.get("runAsUser", 0) != 0, f"{n}: runAsUser")
    for k in ("requests", "limits"):
        need({"cpu", "memory"} <= set(c.get("resources", {}).get(k, {})), f"{n}: resources.{k}")
mounts = lambda c: {m["name"]: m for m in c.get("volumeMounts", [])}
empty = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
web, app, prep = mounts(ctr["epserve"]), mounts(ctr["mysite"]), mounts(init[0])
need(web["mysite-socket"]["mountPath"] == app["mysite-socket"]["mountPath"] == "/run/mysite",
     "the socket directory is not /run/mysite in both containers")
need(web["mysite-static"]["mountPath"] == "/srv/static" and web["mysite-static"].get("readOnly") is True,
     "epserve does not mount the static files read-only at /srv/static")
need("mysite-static" not in app, "the app mounts the static files (only the initContainer writes them)")
# The fix for podman's first-mounter ownership: the initContainer, which runs before either app
# container, mounts every emptyDir they use (but epserve's own /tmp).
used = (empty & (set(web) | set(app))) - {"tmp"}
need(used <= set(prep), f"emptyDirs {sorted(used - set(prep))} not prepared by the initContainer")
need(ctr["epserve"]["readinessProbe"]["httpGet"]["path"] == "/healthz", "epserve: readiness")
need(ctr["epserve"]["livenessProbe"]["httpGet"]["path"] == "/healthz", "epserve: liveness")
probe = ctr["mysite"]["readinessProbe"]["httpGet"]
need(probe["path"] == "/polls/hello/" and {"name": "Host", "value": "localhost"} in probe["httpHeaders"],
     "mysite: readiness probe")
toml = tomllib.loads(docs["ConfigMap"]["data"]["epserve.toml"])
need(toml["port"] == 8080 and toml["health-path"] == "/healthz", "epserve.toml: port or health-path")
need(toml["static"] == [{"prefix": "/static/", "dir": "/srv/static"}], f"epserve.toml: static {toml['static']}")
need(toml["proxy"] == [{"prefix": "/", "url": "uwsgi://unix:/run/mysite/mysite.sock"}], "epserve.toml: proxy")
# The stop order: uWSGI outlives epserve's delay and 3 s drain, all inside the grace period.
sleep = int(ctr["mysite"]["lifecycle"]["preStop"]["exec"]["command"][1])
grace = pod["terminationGracePeriodSeconds"]
need(sleep >= toml["shutdown-delay"] + 3, f"preStop sleeps {sleep} s, epserve drains for {toml['shutdown-delay']} + 3")
need(grace >= sleep + 5, f"terminationGracePeriodSeconds {grace} leaves uWSGI under 5 s after the preStop")
need(docs["Service"]["spec"]["ports"][0]["targetPort"] == "http", "Service: targetPort")
print(f"emptyDirs {sorted(empty)}, preStop {sleep} s, grace {grace} s")
EOF
log "kubectl kustomize deploy/k8s/django: ConfigMap, Deployment (initContainer + epserve + mysite, read-only roots, no capabilities), Service; $(cat "$TMP/check.out")"

# --- played with podman.
timeout 60 kubectl kustomize "$REPO/tests/stack/k8s-django" >"$TMP/play.yaml" 2>"$TMP/kustomize.err" ||
  die "kubectl kustomize tests/stack/k8s-django: $(cat "$TMP/kustomize.err")"
# An emptyDir must start empty: a volume of that name would be taken over as it is.
for v in "${VOLUMES[@]}"; do
  ! timeout 30 podman volume exists "$v" || die "a podman volume '$v' exists (left by an earlier run? podman volume rm $v)"
done
cm=$(sed -n 's/^  name: \(epserve-django-config-.*\)$/\1/p' "$TMP/play.yaml" | head -n 1)
timeout 30 podman volume exists "$cm" || CONFIG_VOLUME=$cm
t0=$(date +%s%N)
PLAYED=yes
timeout 120 podman kube play "$TMP/play.yaml" >"$TMP/play.out" 2>&1 ||
  die "podman kube play: $(cat "$TMP/play.out")"
status_of() { "${CURL[@]}" -o "$TMP/body" -w '%{http_code}' "$@" 2>/dev/null; }
ready() { [ "$(status_of "$BASE/healthz")" = 200 ] && [ "$(status_of "$BASE/polls/")" = 200 ]; }
wait_until 300 0.1 ready || die "/healthz and /polls/ are not both 200 within 30 s of play"
READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
for q in "What&#x27;s new?" "Which server sits in front of Django?" "Unix socket or TCP?"; do
  grep -qF "$q" "$TMP/body" || die "/polls/ does not list the seeded '$q': $(cat "$TMP/body")"
done
# The mysite readiness probe's request, as the kubelet sends it (Host: localhost).
[ "$(status_of -H 'Host: localhost' "$BASE/polls/hello/")" = 200 ] || die "the app's readiness probe request is not 200"
log "podman kube play: /healthz and /polls/ 200 ${READY_MS} ms after play; /polls/ lists the 3 seeded polls; the app's probe request (/polls/hello/) 200"

# --- the initContainer ran first: the socket directory belongs to uWSGI's user, and the socket
# is uWSGI's 664 in group www-data, which epserve belongs to.
sock=$(timeout 30 podman exec "$APP" stat -c '%u:%g %a' /run/mysite /run/mysite/mysite.sock | tr '\n' ' ')
[ "$sock" = "998:33 755 998:33 664 " ] || die "socket directory and socket are '$sock', not 998:33 755 / 998:33 664"
for c in "$WEB:65532:33" "$APP:998:33"; do
  name=${c%%:*} ids=${c#*:}
  uid=$(container_status podman "$name" Uid) gid=$(container_status podman "$name" Gid)
  [ "$uid:$gid" = "$ids" ] || die "$name runs as $uid:$gid, not $ids"
  caps=$(container_status podman "$name" CapEff)
  [ "$caps" = 0000000000000000 ] || die "$name has capabilities $caps"
  [ "$(timeout 30 podman inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$name")" = true ] || die "$name's root filesystem is writable"
done
[ "$(timeout 30 podman inspect -f '{{range .Mounts}}{{if eq .Destination "/srv/static"}}{{.RW}}{{end}}{{end}}' "$WEB")" = false ] ||
  die "epserve's /srv/static is not mounted read-only"
log "socket dir 998:33 755, socket 998:33 664; epserve 65532:33, mysite 998:33, no capabilities, read-only roots; /srv/static read-only in epserve"

# --- the database on its emptyDir is writable (the app's root is not): a vote counts.
"${CURL[@]}" -o "$TMP/index.html" "$BASE/polls/" || die "GET /polls/"
QID=$(sed -n 's|.*<a href="/polls/\([0-9]*\)/">Unix socket or TCP?</a>.*|\1|p' "$TMP/index.html")
[ -n "$QID" ] || die "no link to 'Unix socket or TCP?' on /polls/"
JAR="$TMP/cookies"
"${CURL[@]}" -c "$JAR" -o "$TMP/detail.html" "$BASE/polls/$QID/" || die "GET /polls/$QID/"
TOKEN=$(sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' "$TMP/detail.html")
CHOICE=$(sed -n 's/.*id="choice1" value="\([0-9]*\)".*/\1/p' "$TMP/detail.html")
if [ -z "$TOKEN" ] || [ -z "$CHOICE" ]; then die "no CSRF token or choice on /polls/$QID/"; fi
votes() { "${CURL[@]}" "$BASE/polls/$QID/results/" | sed -n 's/.*<li>Unix socket -- \([0-9]*\) vote.*/\1/p'; }
BEFORE=$(votes)
[ -n "$BEFORE" ] || die "the results page has no count for 'Unix socket'"
code=$(status_of -b "$JAR" -d "csrfmiddlewaretoken=$TOKEN&choice=$CHOICE" "$BASE/polls/$QID/vote/")
[ "$code" = 303 ] || die "the vote got $code, not 303: $(cat "$TMP/body")"
AFTER=$(votes)
[ "$AFTER" = $((BEFORE + 1)) ] || die "one vote took 'Unix socket' from $BEFORE to '$AFTER'"
log "vote: 303, count $BEFORE -> $AFTER (sqlite on the mysite-data emptyDir)"

# --- static files: served by epserve from the emptyDir, byte-identical to the image's collected
# copy (which the initContainer copied), never seen by uWSGI.
for f in polls/style.css admin/css/base.css admin/js/vendor/jquery/jquery.js; do
  [ "$(status_of "$BASE/static/$f")" = 200 ] || die "GET /static/$f is not 200"
  timeout 30 podman exec "$APP" cat "/srv/mysite/static/$f" >"$TMP/collected" || die "no collected $f in the app image"
  [ -s "$TMP/collected" ] || die "the collected $f is empty"
  cmp -s "$TMP/body" "$TMP/collected" || die "/static/$f differs from the image's collected copy"
done
status_of "$BASE/static/polls/style.css" >/dev/null
cmp -s "$TMP/body" "$REPO/examples/django/polls/static/polls/style.css" ||
  die "/static/polls/style.css differs from examples/django/polls/static/polls/style.css"

# --- an unknown poll: Django's 404 (DEBUG off), through the socket, not epserve's own page.
[ "$(status_of "$BASE/polls/999999/")" = 404 ] || die "GET /polls/999999/ is not 404"
grep -qF 'The requested resource was not found on this server.' "$TMP/body" ||
  die "the 404 is not Django's page: $(head -c 300 "$TMP/body")"
timeout 30 podman logs "$WEB" >"$TMP/web.log" 2>/dev/null
grep '"target":"/polls/999999/"' "$TMP/web.log" | grep -qF '"status":404,' ||
  die "epserve's access log has no 404 line for /polls/999999/"
grep '"target":"/polls/999999/"' "$TMP/web.log" | grep -qF '"upstream":"unix:/run/mysite/mysite.sock"' ||
  die "epserve's log line for /polls/999999/ names no upstream socket"
timeout 30 podman logs "$APP" >"$TMP/app.log" 2>&1
grep -q 'GET /polls/999999/ => generated .* (HTTP/1.1 404)' "$TMP/app.log" ||
  die "uWSGI's log has no 404 line for /polls/999999/"
! grep -q 'GET /static/' "$TMP/app.log" || die "a /static/ request reached uWSGI"
log "static: 3 files byte-identical to the image's collected copies, none seen by uWSGI; /polls/999999/ 404 from Django over the socket"

# --- the stop, in the kubelet's order with the app's preStop (podman 4.x runs no lifecycle
# hooks, so this script signals as the kubelet would): SIGTERM to epserve, which answers 503 on
# /healthz while uWSGI still answers /polls/ through it; epserve exits 0 after its delay and drain;
# then (the preStop's sleep over) SIGTERM to uWSGI, which exits 0.
t0=$(date +%s%N)
timeout 30 podman kill --signal TERM "$WEB" >/dev/null || die "podman kill --signal TERM $WEB failed"
draining() { [ "$(status_of "$BASE/healthz")" = 503 ]; }
wait_until 50 0.05 draining || die "/healthz did not answer 503 within 2.5 s of SIGTERM"
[ "$(status_of "$BASE/polls/")" = 200 ] || die "/polls/ is not 200 during epserve's --shutdown-delay"
web_code=$(timeout 30 podman wait "$WEB" 2>"$TMP/wait.err") || die "podman wait $WEB: $(cat "$TMP/wait.err")"
STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$web_code" = 0 ] || die "epserve exited with $web_code after SIGTERM"
(( STOP_MS >= 5000 && STOP_MS < 8000 )) || die "epserve stopped after $STOP_MS ms (want 5-8 s: its delay and drain, inside the preStop's 8 s)"
t0=$(date +%s%N)
timeout 30 podman kill --signal TERM "$APP" >/dev/null || die "podman kill --signal TERM $APP failed"
app_code=$(timeout 30 podman wait "$APP" 2>"$TMP/wait.err") || die "podman wait $APP: $(cat "$TMP/wait.err")"
APP_STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$app_code" = 0 ] || die "mysite (uWSGI) exited with $app_code after SIGTERM"
timeout 30 podman logs "$APP" 2>&1 | grep -q 'goodbye to uWSGI' || die "uWSGI did not say goodbye: not a clean stop"
log "stop: /healthz 503 while /polls/ 200; epserve exit 0 after ${STOP_MS} ms, then uWSGI exit 0 after ${APP_STOP_MS} ms"
timeout 60 podman kube down "$TMP/play.yaml" >"$TMP/down.out" 2>&1 || die "podman kube down: $(cat "$TMP/down.out")"
PLAYED=no
for v in "${VOLUMES[@]}"; do
  ! timeout 30 podman volume exists "$v" || die "podman kube down left the emptyDir volume '$v'"
done
log "podman kube down: exit 0, the emptyDir volumes removed"
echo "k8s-django: ready=${READY_MS}ms stop=${STOP_MS}ms+${APP_STOP_MS}ms exit=0,0"
echo "k8s-django: all checks passed"
