#!/usr/bin/env bash
# Fails when an #include in src/ runs against the layering reactor <- http <- fs <- server/proxy
# (each folder may include only itself and the folders to its left; client and main use any).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [reactor]="reactor"
  [http]="http reactor"
  [fs]="fs http reactor"
  [server]="server proxy fs http reactor"
  [proxy]="proxy server fs http reactor"
)
status=0
for layer in "${!allowed[@]}"; do
  [[ -d src/$layer ]] || continue
  while IFS= read -r hit; do
    file=${hit%%:*}
    target=$(sed -E 's/.*#include "([a-z]+)\/.*/\1/' <<<"$hit")
    if [[ " ${allowed[$layer]} " != *" $target "* ]]; then
      echo "layering: $file includes $target/ (src/$layer may include: ${allowed[$layer]})"
      status=1
    fi
  done < <(grep -rnE '^#include "[a-z]+/' "src/$layer" || true)
done
(( status == 0 )) && echo "layering: clean"
exit "$status"
