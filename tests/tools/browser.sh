#!/usr/bin/env bash
# Tool test: a real browser (headless Chromium) loads the default site and a missing page, renders
# a screenshot, and fetches every subresource and the favicon. UPDATE_DOCS=1 saves the screenshot.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=fixture.bash
. "$(dirname "$0")/fixture.bash"
fixture_init "$@"
need_command chromium
start_server

# A throwaway profile and home, nothing from the network but our loopback server, no GPU.
mkdir -p "$WORK/home"
browser() {
  HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_CACHE_HOME="$WORK/home/.cache" \
    timeout -k 5 90 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-quic --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --hide-scrollbars --user-data-dir="$(mktemp -d "$WORK/profile.XXXXXX")" \
    "$@" 2>>"$WORK/chromium.err"
}
title_of() { grep -o '<title>[^<]*</title>' "$1" | head -n 1 | sed 's/<[^>]*>//g'; }
UA_RE='"[^"]*HeadlessChrome/[^"]*"$'

# --- the home page: its DOM after load, and its title.
browser --dump-dom "$BASE/" >"$WORK/index.dom" || fail "chromium --dump-dom / failed: $(tail -n 5 "$WORK/chromium.err")"
[ "$(title_of "$WORK/index.dom")" = "epserve" ] ||
  fail "title of / is '$(title_of "$WORK/index.dom")', expected 'epserve'"
pass "chromium: / has the title 'epserve'"

# --- a missing page: the DOM is the 404 page the server sends.
browser --dump-dom "$BASE/no/such/page" >"$WORK/missing.dom" ||
  fail "chromium --dump-dom /no/such/page failed: $(tail -n 5 "$WORK/chromium.err")"
[ "$(title_of "$WORK/missing.dom")" = "404 Not Found — epserve" ] ||
  fail "title of a missing page is '$(title_of "$WORK/missing.dom")'"
log_has 5 '"GET /no/such/page HTTP/1\.1" 404 [0-9]+ "-" '"$UA_RE" || fail "the 404 is not in the access log"
pass "chromium: a missing path shows '404 Not Found — epserve' (status 404)"

# --- a screenshot of / at 1024x768.
SHOT="$WORK/screenshot.png"
browser --window-size=1024,768 --screenshot="$SHOT" "$BASE/" >/dev/null ||
  fail "chromium --screenshot failed: $(tail -n 5 "$WORK/chromium.err")"
[ -s "$SHOT" ] || fail "no screenshot written"
[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "screenshot is not a PNG"
# IHDR width and height: big-endian 32-bit at offsets 16 and 20.
read -r w0 w1 w2 w3 h0 h1 h2 h3 < <(od -An -tu1 -j16 -N8 "$SHOT")
width=$(((w0 << 24) | (w1 << 16) | (w2 << 8) | w3))
height=$(((h0 << 24) | (h1 << 16) | (h2 << 8) | h3))
if [ "$width" != 1024 ] || [ "$height" != 768 ]; then
  fail "screenshot is ${width}x${height}, not 1024x768"
fi
# A blank 1024x768 page compresses to a few KB; the rendered text and table make tens of KB.
size=$(stat -c %s "$SHOT")
[ "$size" -gt 20000 ] || fail "screenshot is only $size bytes: the page did not render"
pass "chromium: screenshot of / is a ${width}x${height} PNG of $size bytes"

# --- every subresource the two pages reference (src=, and href= of <link>) was fetched and
# answered 2xx/3xx, the favicon with 200; no browser request got a 4xx/5xx except the page that
# does not exist.
refs=$(cat "$WORK/index.dom" "$WORK/missing.dom" |
  grep -oE '(<link[^>]* href|[[:space:]]src)="[^"]+"' | sed 's/.*="\(.*\)"/\1/' |
  sed "s#^$BASE##" | grep '^/' | sort -u || true)
grep -qx /favicon.ico <<<"$refs" || fail "the pages no longer reference /favicon.ico: $refs"
for ref in $refs; do
  log_has 10 "\"GET ${ref//./\\.} HTTP/1\\.1\" [23][0-9]{2} [0-9]+ \"$BASE/[^\"]*\" $UA_RE" ||
    fail "the browser's request for $ref (a subresource) was not answered 2xx/3xx"
done
log_has 5 "\"GET /favicon\\.ico HTTP/1\\.1\" 200 $(stat -c %s "$ROOT/favicon.ico") " ||
  fail "the favicon was not served with 200"
bad=$(grep -E "$UA_RE" "$ACCESS_LOG" | grep -E '" [45][0-9]{2} ' | grep -vF '"GET /no/such/page ' || true)
[ -z "$bad" ] || fail "browser requests answered with an error:"$'\n'"$bad"
pass "chromium: subresources fetched: $(paste -sd' ' <<<"$refs") (favicon 200, no 4xx/5xx)"

if [ "${UPDATE_DOCS:-0}" = 1 ]; then
  mkdir -p "$SRC/docs"
  # Keep the repository small: shrink a large screenshot when ImageMagick is there.
  if [ "$size" -gt 150000 ] && [ -x /usr/bin/convert ]; then
    /usr/bin/convert "$SHOT" -resize 800x "$SRC/docs/screenshot.png"
  else
    cp "$SHOT" "$SRC/docs/screenshot.png"
  fi
  echo "wrote $SRC/docs/screenshot.png ($(stat -c %s "$SRC/docs/screenshot.png") bytes)"
fi
echo "browser: all checks passed"
