#!/usr/bin/env bash
# Tool test: a person talking HTTP by hand with telnet, typed key by key into a real terminal
# (tmux), two requests on one connection. UPDATE_DOCS=1 saves the session to docs/.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=fixture.bash
. "$(dirname "$0")/fixture.bash"
fixture_init "$@"
need_command telnet tmux
# A person types slower than the default 5 s keep-alive idle timeout allows between requests.
start_server --keepalive-timeout 60

# A private tmux server (its own socket, no user config) with a wide pane so headers do not wrap,
# enough history for the whole session, and a pane that stays readable after telnet exits.
export TERM=${TERM:-xterm}
[ "$TERM" = dumb ] && export TERM=xterm
TMUX_SOCKET="$WORK/tmux.sock"
cat >"$WORK/tmux.conf" <<'EOF'
set -g history-limit 50000
set -g remain-on-exit on
EOF
tmx() { timeout 10 tmux -S "$TMUX_SOCKET" -f "$WORK/tmux.conf" "$@"; }
FIXTURE_CLEANUP+=("timeout 10 tmux -S '$TMUX_SOCKET' kill-server")
tmx new-session -d -s telnet -x 200 -y 50 "telnet 127.0.0.1 $PORT"

# pane_text: the whole session so far, wrapped lines joined, trailing blank lines dropped.
pane_text() { tmx capture-pane -p -J -S - -E - -t telnet | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }
screen_count() { pane_text | grep -cF -- "$1" || true; }
screen_has() { [ "$(screen_count "$1")" -ge "${2:-1}" ]; }
# type_line TEXT: types TEXT and Enter, then pauses as a person does between lines.
type_line() {
  [ -n "$1" ] && tmx send-keys -t telnet -l -- "$1"
  tmx send-keys -t telnet Enter
  sleep 0.3
}
expect_screen() { # SECONDS TEXT [COUNT]
  wait_until $(($1 * 10)) 0.1 screen_has "$2" "${3:-1}" ||
    fail "telnet screen never showed '$2' (x${3:-1}); screen was:"$'\n'"$(pane_text)"
}

expect_screen 10 "Connected to 127.0.0.1."
expect_screen 5 "Escape character is '^]'."

# First request, as the page itself suggests: the request line, Host, then an empty line.
type_line "GET /index.html HTTP/1.1"
type_line "Host: localhost"
type_line ""
expect_screen 10 "</html>"
screen_has "HTTP/1.1 200 OK" || fail "no 'HTTP/1.1 200 OK' on screen"
screen_has "Content-Length: $(stat -c %s "$ROOT/index.html")" || fail "wrong Content-Length"
screen_has "<title>epserve</title>" || fail "the index page title did not arrive"
pass "telnet: GET /index.html HTTP/1.1 -> 200 OK and the page (<title>epserve</title>)"

# Second request on the same connection (HTTP/1.1 keep-alive): a missing page.
type_line "GET /nope HTTP/1.1"
type_line "Host: localhost"
type_line ""
expect_screen 10 "</html>" 2
screen_has "HTTP/1.1 404 Not Found" || fail "no 'HTTP/1.1 404 Not Found' on screen"
screen_has "<title>404 Not Found — epserve</title>" || fail "the 404 page did not arrive"
screen_has "Connection closed by foreign host." && fail "the server closed the connection after the 404"
pass "telnet: second request on the same connection -> 404 Not Found and the noIndex page"

# Both requests came from one client port: the same TCP connection.
log_has 5 '"GET /nope HTTP/1.1" 404 ' || fail "404 not in the access log"
ports=$(grep -E '"GET /(index\.html|nope) HTTP/1\.1"' "$ACCESS_LOG" | cut -d' ' -f1 | sort -u)
[ "$(wc -l <<<"$ports")" = 1 ] || fail "the two requests came on different connections: $ports"
pass "telnet: both requests on one connection ($ports)"

# Leave as a person does: the escape character, then quit at the telnet> prompt.
tmx send-keys -t telnet C-]
expect_screen 5 "telnet>"
type_line "quit"
expect_screen 5 "Connection closed."
telnet_exited() { [ "$(tmx display-message -p -t telnet '#{pane_dead}')" = 1 ]; }
wait_until 50 0.1 telnet_exited || fail "telnet did not exit after quit"
pass "telnet: quit"

if [ "${UPDATE_DOCS:-0}" = 1 ]; then
  mkdir -p "$SRC/docs"
  # Drop tmux's "Pane is dead" footer; the rest is what the person saw.
  pane_text | grep -v '^Pane is dead' >"$SRC/docs/telnet-transcript.txt"
  echo "wrote $SRC/docs/telnet-transcript.txt"
fi
echo "telnet: all checks passed"
