# Helpers shared by the repository's bash scripts (die, bounded polling, stopping a PID we started).
# Sourced, never run: . "$(dirname "${BASH_SOURCE[0]}")/lib.sh" (adjust the path to scripts/).
# shellcheck shell=bash

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  echo "${0##*/}: this file is sourced by other scripts, not run" >&2
  exit 2
fi

# die MSG...: prints "<script name>: MSG" to stderr and exits 1.
die() {
  echo "${0##*/}: $*" >&2
  exit 1
}

# wait_until TRIES DELAY CMD...: runs CMD until it succeeds, at most TRIES times, sleeping DELAY
# seconds between tries (e.g. 100 0.1 = about 10 s). Returns 1 if CMD never succeeded. CMD runs
# as an `if` condition, so a failing command inside it does not trip `set -e`.
wait_until() {
  local tries=$1 delay=$2
  [[ $tries =~ ^[0-9]+$ ]] || die "wait_until: TRIES must be a whole number, not '$tries'"
  shift 2
  while ((tries-- > 0)); do
    if "$@"; then return 0; fi
    if ((tries > 0)); then sleep "$delay"; fi
  done
  return 1
}

# pid_alive PID: the process exists and has not exited (a zombie waiting to be reaped has).
pid_alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0 # no /proc entry to ask: trust kill -0
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}
# pid_gone PID: the opposite, as a command for wait_until.
pid_gone() { ! pid_alive "$1"; }

# stop_pid [-s SIGNAL] PID [GRACE_SECONDS]: sends SIGNAL (default TERM) to PID if it is alive,
# waits up to GRACE_SECONDS (default 5; whole seconds, polled every 0.1 s) for it to exit, then
# sends SIGKILL; reaps it with `wait` when it is a child of this shell. Only ever signals PID:
# never a name. Returns 0 if it was gone or exited in time, 1 if it needed SIGKILL (so under
# `set -e` write `stop_pid ... || true` where that does not matter).
stop_pid() {
  local sig=TERM pid grace status=0
  if [[ ${1:-} == -s ]]; then
    sig=$2
    shift 2
  fi
  pid=$1 grace=${2:-5}
  [[ $pid =~ ^[1-9][0-9]*$ && $pid != 1 ]] || die "stop_pid: '$pid' is not a PID we started"
  [[ $grace =~ ^[0-9]+$ ]] || die "stop_pid: GRACE_SECONDS must be a whole number, not '$grace'"
  if pid_alive "$pid"; then
    kill -s "$sig" "$pid" 2>/dev/null || true
    if ! wait_until $((grace * 10)) 0.1 pid_gone "$pid"; then
      status=1
      if pid_alive "$pid"; then kill -s KILL "$pid" 2>/dev/null || true; fi
      # SIGKILL is not instant (or not at all, for a process stuck in the kernel): bounded too.
      wait_until 50 0.1 pid_gone "$pid" || return 1
    fi
  fi
  # A child of this shell: collect its status. Anyone else's process: wait just says so (127).
  wait "$pid" 2>/dev/null || true
  return "$status"
}

# use_podman_sandbox REPO: rootful podman as these build machines allow it, set up by
# shared/container/podman-sandbox.sh beside the repository (CI lays shared/ there); exports the
# CONTAINERS_CONF it prints. Dies when the script is missing or fails.
use_podman_sandbox() {
  local sandbox
  sandbox="$(dirname "$1")/shared/container/podman-sandbox.sh"
  [[ -f $sandbox ]] || die "no $sandbox (it sets up rootful podman on these machines)"
  CONTAINERS_CONF=$(timeout 900 bash "$sandbox" | tail -n 1) || die "podman-sandbox.sh failed"
  export CONTAINERS_CONF
}

# container_status ENGINE CONTAINER FIELD: the first value of FIELD (Uid, CapEff, ...) in its
# PID 1's /proc status, read from the host (a rootful engine's container PIDs are host PIDs; the
# epserve image has no shell to ask). Empty when it cannot be read.
container_status() {
  local pid
  pid=$(timeout 30 "$1" inspect -f '{{.State.Pid}}' "$2") || return 0
  awk -v f="$3:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null || true
}

# kube_teardown STATUS PLAY_YAML PLAYED CONFIG_VOLUME CONTAINER...: the end of a `podman kube play`
# test. After a failure that got as far as playing, it shows each container's last log lines;
# then, if the test played, it runs kube down; and it removes the ConfigMap volume when this run
# made it (kube down leaves it behind; empty CONFIG_VOLUME = keep).
kube_teardown() {
  local status=$1 play=$2 played=$3 volume=$4 c
  shift 4
  if [ "$status" != 0 ] && [ "$played" = yes ]; then
    for c in "$@"; do
      echo "--- $c log (last 20 lines)" >&2
      timeout 20 podman logs "$c" 2>&1 | tail -n 20 >&2
    done
  fi
  [ "$played" = no ] || timeout 60 podman kube down "$play" >/dev/null 2>&1
  [ -z "$volume" ] || timeout 60 podman volume rm "$volume" >/dev/null 2>&1
  return 0
}
