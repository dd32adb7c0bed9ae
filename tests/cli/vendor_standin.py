#!/usr/bin/env python3
"""vendor_standin.py: a STAND-IN for AMD's Key Distribution Service and Intel's Provisioning
Certification Service, for the CLI tests only (no test reaches the internet).

usage: vendor_standin.py PORT TREE LOG

Serves TREE over plain HTTP on 127.0.0.1:PORT under the vendors' URL layout: a request for
PATH?QUERY is answered with the file TREE/PATH?QUERY (the query is part of the file name, so a
request with other parameters, e.g. another FMSPC or TCB, finds nothing: 404), with the headers
listed in that file's sibling "<name>.headers" ("Name: value" lines, e.g. Intel's
TCB-Info-Issuer-Chain). Every request is appended to LOG as "GET <target> <status>", so a
test can count what was fetched. Stops on SIGTERM.
"""
import http.server
import os
import signal
import sys


def main():
    if len(sys.argv) != 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    port, tree, log_path = int(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    log = open(log_path, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            # normalised (no "..") but links kept: the tree links to the shared files
            path = os.path.abspath(os.path.join(tree, self.path.lstrip("/")))
            status, body, headers = 404, b"not found\n", []
            if path.startswith(tree + os.sep) and os.path.isfile(path):
                with open(path, "rb") as f:
                    body = f.read()
                status = 200
                if os.path.isfile(path + ".headers"):
                    with open(path + ".headers") as h:
                        headers = [l.rstrip("\n").split(": ", 1) for l in h if ": " in l]
            log.write("GET %s %d\n" % (self.path, status))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
