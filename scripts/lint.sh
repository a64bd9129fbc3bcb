#!/usr/bin/env bash
# `make lint`: the include layering (scripts/check-layers.sh), clang-tidy (the checks in
# .clang-tidy) and cppcheck over src/; all must be clean.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/check-layers.sh
bash scripts/install-deps.sh clang-tidy cppcheck build-essential cmake pkg-config libspdlog-dev libcxxopts-dev doctest-dev libc-ares-dev libtomlplusplus-dev
cmake -S . -B build/lint -DCMAKE_BUILD_TYPE=Debug -DEPSERVE_TESTS=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON > /dev/null
mapfile -t sources < <(find src -name '*.cpp' | sort)
echo "clang-tidy: ${#sources[@]} files"
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p build/lint --quiet \
  > build/lint/clang-tidy.log 2>&1 || true
grep -v '^[0-9]* warnings\? \(and [0-9]* errors\? \)\?generated' build/lint/clang-tidy.log || true
if grep -q 'error:\|warning:' build/lint/clang-tidy.log; then
  echo "clang-tidy: findings above"; exit 1
fi
echo "cppcheck:"
cppcheck --std=c++20 --language=c++ --enable=warning,performance,portability --inline-suppr \
  --error-exitcode=1 --quiet -I src --suppress=missingIncludeSystem src
echo "lint: clean"
