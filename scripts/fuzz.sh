#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang and runs them; exits non-zero on any
# crash, sanitizer report, leak or timeout. Usage:
#   scripts/fuzz.sh [TARGET...]            fuzz each target for FUZZ_SECONDS (default 60)
#   scripts/fuzz.sh --regress [TARGET...]  run the committed reproducers and seeds once (for CI)
# Crash reproducers land in tests/fuzz/artifacts/<target>/; the growing corpus in
# build/fuzz/corpus/<target>/, seeded from tests/fuzz/corpus/<target>/.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "$0")/.."

# Every tests/fuzz/fuzz_<name>.cpp is a target (the CMake list is the same glob).
mapfile -t ALL_TARGETS < <(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//' | sort)
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
JOBS="${JOBS:-$(nproc)}"
BUILD=build/fuzz
FUZZ_DIR=tests/fuzz
# Flags every run shares: a slow input is a finding too (-timeout), as is runaway memory.
COMMON_FLAGS=(-timeout=5 -rss_limit_mb=2048)
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

mode=fuzz
targets=()
for arg in "$@"; do
  case "$arg" in
    --regress) mode=regress ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    fuzz_*) targets+=("$arg") ;;
    *) echo "fuzz.sh: unknown argument '$arg' (targets: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")
if ! [[ "$FUZZ_SECONDS" =~ ^[0-9]+$ ]] || [ "$FUZZ_SECONDS" -eq 0 ]; then
  echo "fuzz.sh: FUZZ_SECONDS must be a positive number of seconds" >&2
  exit 2
fi

bash scripts/install-deps.sh build-essential cmake pkg-config libspdlog-dev libcxxopts-dev libc-ares-dev libtomlplusplus-dev clang \
  libclang-rt-14-dev
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DEPSERVE_FUZZ=ON -DEPSERVE_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target epserve_fuzzers

# The resolver target builds its file tree under $TMPDIR; one private to this script is swept
# at the end even when a crashed run left its tree behind.
export TMPDIR="$PWD/$BUILD/tmp"
mkdir -p "$TMPDIR" "$BUILD/logs"
trap 'rm -rf "$TMPDIR"' EXIT

failed=()
summary=()

# Prints the last value of a libFuzzer "name: value" field in a log, or "?".
field() {
  local value
  value=$(grep -o "$1 *[0-9]*" "$2" | tail -n 1 | grep -o '[0-9]*$' || true)
  echo "${value:-?}"
}

report_failure() {
  local target=$1 log=$2
  failed+=("$target")
  echo "---- $target FAILED; end of $log:" >&2
  tail -n 40 "$log" >&2
}

run_regress() {
  local target=$1 bin=$BUILD/tests/fuzz/$1 log=$BUILD/logs/$1.regress.log
  local inputs=()
  for dir in "$FUZZ_DIR/regressions/$target" "$FUZZ_DIR/corpus/$target"; do
    [ -d "$dir" ] || continue
    while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$dir" -type f -print0 | sort -z)
  done
  if [ ${#inputs[@]} -eq 0 ]; then
    summary+=("$(printf '%-22s no inputs' "$target")")
    return
  fi
  # Given files rather than directories, libFuzzer runs each one once and does not fuzz.
  if "$bin" "${COMMON_FLAGS[@]}" "${inputs[@]}" >"$log" 2>&1; then
    summary+=("$(printf '%-22s ok    %4d inputs' "$target" "${#inputs[@]}")")
  else
    summary+=("$(printf '%-22s FAIL  %4d inputs, at %s (log: %s)' "$target" "${#inputs[@]}" \
      "$(grep '^Running: ' "$log" | tail -n 1 | cut -c10-)" "$log")")
    report_failure "$target" "$log"
  fi
}

run_fuzz() {
  local target=$1 bin=$BUILD/tests/fuzz/$1 log=$BUILD/logs/$1.log
  local corpus=$BUILD/corpus/$1 artifacts=$FUZZ_DIR/artifacts/$1/
  mkdir -p "$corpus" "$artifacts"
  cp -n "$FUZZ_DIR/corpus/$target"/* "$corpus"/ 2>/dev/null || true
  local dirs=("$corpus")
  # Past findings go first: fuzzing a target that still fails on one of them is pointless.
  [ -d "$FUZZ_DIR/regressions/$target" ] && dirs+=("$FUZZ_DIR/regressions/$target")
  echo "== $target: fuzzing for ${FUZZ_SECONDS}s (log: $log)"
  local status=ok
  if ! "$bin" "${COMMON_FLAGS[@]}" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
      -dict="$FUZZ_DIR/http.dict" -artifact_prefix="$artifacts" "${dirs[@]}" >"$log" 2>&1; then
    status=FAIL
    report_failure "$target" "$log"
  fi
  local cov ft
  cov=$(field 'cov:' "$log")
  ft=$(field 'ft:' "$log")
  summary+=("$(printf '%-22s %-4s executions: %-10s exec/s: %-7s cov: %-5s ft: %-6s corpus: %s' \
    "$target" "$status" "$(field 'stat::number_of_executed_units:' "$log")" \
    "$(field 'stat::average_exec_per_sec:' "$log")" "$cov" "$ft" \
    "$(find "$corpus" -type f | wc -l)")")
}

for target in "${targets[@]}"; do
  if [ "$mode" = regress ]; then run_regress "$target"; else run_fuzz "$target"; fi
done

echo
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  die "failures in: ${failed[*]} (fuzzing reproducers go to $FUZZ_DIR/artifacts/<target>/)"
fi
