#!/usr/bin/env python3
# Correctness probe for the pipelining scenario: sends N GET requests in one write and checks
# that N responses come back in order with the expected status and body size (and, for the proxy
# scenarios, a header only the upstream sets, so a front answering by itself fails).
"""Usage: probe.py [--want-header NAME] HOST PORT PATH DEPTH STATUS BODY_BYTES; exit 0 and
'ok DEPTH' on success."""
import socket
import sys


def readResponse(sock, buf):
  """Reads one response (head, Content-Length body); returns (status, header names, body,
  unread bytes)."""
  while b"\r\n\r\n" not in buf:
    chunk = sock.recv(65536)
    if not chunk:
      raise RuntimeError("connection closed inside a response head")
    buf += chunk
  head, _, buf = buf.partition(b"\r\n\r\n")
  lines = head.decode("latin-1").split("\r\n")
  status = int(lines[0].split(" ")[1])
  length = 0
  names = set()
  for line in lines[1:]:
    name, _, value = line.partition(":")
    names.add(name.strip().lower())
    if name.strip().lower() == "content-length":
      length = int(value.strip())
  while len(buf) < length:
    chunk = sock.recv(65536)
    if not chunk:
      raise RuntimeError("connection closed inside a response body")
    buf += chunk
  return status, names, buf[:length], buf[length:]


def main():
  args = sys.argv[1:]
  wantHeader = None
  if args[:1] == ["--want-header"]:
    wantHeader, args = args[1].lower(), args[2:]
  host, port, path = args[0], int(args[1]), args[2]
  depth, wantStatus, wantBytes = int(args[3]), int(args[4]), int(args[5])
  request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
  with socket.create_connection((host, port), timeout=5) as sock:
    sock.sendall(request * depth)
    buf = b""
    for i in range(depth):
      status, names, body, buf = readResponse(sock, buf)
      if status != wantStatus or len(body) != wantBytes:
        print(f"response {i + 1}/{depth}: status {status}, {len(body)} bytes; "
              f"want {wantStatus}, {wantBytes}")
        return 1
      if wantHeader is not None and wantHeader not in names:
        print(f"response {i + 1}/{depth}: no {wantHeader} header (not from the upstream)")
        return 1
  print(f"ok {depth}")
  return 0


if __name__ == "__main__":
  try:
    sys.exit(main())
  except (OSError, RuntimeError, ValueError, IndexError) as err:
    print(f"probe failed: {err}")
    sys.exit(1)
