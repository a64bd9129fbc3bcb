#!/usr/bin/env python3
"""The service manager's end of sd_notify(3), for tests/tools/systemd.sh: binds a unix datagram
socket (a path, or @name in the abstract namespace) and writes each notice it receives to OUT,
one line per datagram with its newlines shown as '|'. With --probe PORT, a READY=1 notice is
checked at once: one GET /index.html to 127.0.0.1:PORT, no retry, whose status line follows it
in OUT as "probe: ..." -- ready has to mean "answers now". Exits after --seconds (bounded)."""
import argparse
import socket
import sys
import time


def probe(port: int) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.settimeout(5)
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data and len(data) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.split(b"\r\n", 1)[0].decode("latin-1") or "no answer"
    except OSError as e:
        return f"error {e}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("out")
    parser.add_argument("--probe", type=int)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + args.address[1:] if args.address.startswith("@") else args.address)
    deadline = time.monotonic() + args.seconds
    with open(args.out, "a", buffering=1) as out:
        out.write("bound\n")
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                notice = sock.recv(4096).decode("utf-8", "replace")
            except socket.timeout:
                break
            out.write(notice.replace("\n", "|") + "\n")
            if args.probe and "READY=1" in notice.split("\n"):
                out.write("probe: " + probe(args.probe) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
