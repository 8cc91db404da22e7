"""A loopback stand-in for Step Functions, for the Python host's tests and its bench.

It listens on 127.0.0.1 (a free port), records each request (target header and body), and
answers every one the same way: with `status`, `body` and `headers`, or, when `answer` is
false, never (it reads the request and holds the connection until it is closed).
"""

import http.server
import threading


class StandIn:
    def __init__(self, status=200, body=b"", headers=(), answer=True):
        self.requests = []
        self._closing = threading.Event()
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Step Functions answers
            # Headers and body go out in two writes: without this, the body waits for the
            # client's delayed ACK of the headers.
            disable_nagle_algorithm = True

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                stand_in.requests.append((self.headers.get("X-Amz-Target"), body))
                if not answer:
                    stand_in._closing.wait()
                    return
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body_bytes)))
                self.end_headers()
                self.wfile.write(body_bytes)

            def log_message(self, *args):
                pass  # quiet: the tests' output is theirs

        body_bytes = body if isinstance(body, bytes) else body.encode()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self):
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    def close(self):
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
