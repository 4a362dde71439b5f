#!/usr/bin/env python3
"""A line-protocol /write endpoint for tests: appends each POST body to OUT, answers 204.

http-sink.py PORT OUT [--ready FILE]
"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
if "--ready" in sys.argv:
    open(sys.argv[sys.argv.index("--ready") + 1], "w").close()
server.serve_forever()
