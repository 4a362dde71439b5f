#!/usr/bin/env python3
"""A misbehaving ingest endpoint for uplink tests. Counts requests in COUNT.

http-faults.py PORT MODE COUNT [--ready FILE]
MODE: 500 | 429 (Retry-After: 2) | slow (answers after 30 s) | reset (closes after reading
part of the body) | 401
"""
import http.server
import socket
import sys
import time

port, mode, count_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        with open(count_file, "a") as f:
            f.write("x")
        length = int(self.headers.get("Content-Length", "0"))
        if mode == "reset":
            self.rfile.read(min(length, 10))
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
            return
        self.rfile.read(length)
        if mode == "slow":
            time.sleep(30)
        status = {"500": 500, "429": 429, "401": 401, "slow": 200}[mode]
        body = b'{"error": "scripted fault"}'
        self.send_response(status)
        if mode == "429":
            self.send_header("Retry-After", "2")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
if "--ready" in sys.argv:
    open(sys.argv[sys.argv.index("--ready") + 1], "w").close()
server.serve_forever()
