# A small WSGI application for the stack tests: echoes what reached it, reads uploads, streams.
import hashlib
import json
import time


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.endswith("/echo"):
        body = environ["wsgi.input"].read()
        seen = {
            "method": environ["REQUEST_METHOD"],
            "path": path,
            "query": environ.get("QUERY_STRING", ""),
            "host": environ.get("HTTP_HOST", ""),
            "xff": environ.get("HTTP_X_FORWARDED_FOR", ""),
            "proto": environ.get("HTTP_X_FORWARDED_PROTO", ""),
            "via": environ.get("HTTP_VIA", ""),
            "te": environ.get("HTTP_TRANSFER_ENCODING", ""),
            "length": len(body),
            "md5": hashlib.md5(body).hexdigest(),
        }
        out = json.dumps(seen, sort_keys=True).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(out))),
                                  ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        return [out]
    if path.endswith("/stream"):
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Accel-Buffering", "no")])

        def chunks():
            for i in range(3):
                yield ("part %d %.3f\n" % (i, time.time())).encode()
                time.sleep(0.4)
        return chunks()
    if path.endswith("/big"):
        size = int(environ.get("QUERY_STRING", "0") or 0)
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(size))])
        block = bytes(range(256)) * 256
        def blocks():
            left = size
            while left > 0:
                n = min(left, len(block))
                yield block[:n]
                left -= n
        return blocks()
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not here\n"]
