"""A Lambda Runtime API (2018-06-01) on loopback, for driving `tfreg lambda` as a real process.

The test enqueues events with POST /__enqueue (body: the event JSON; the reply is the request id),
and reads what the function answered with GET /__result/ID (404 until there is one):
{"kind": "response"|"error", "body": ..., "error_type": ...}. /__init_error returns the init error.
usage: lambda_runtime_api.py   (prints its port, then serves)
"""
import http.server, itertools, json, queue, threading, time

events = queue.Queue()
results = {}
init_error = {}
ids = itertools.count(1)
lock = threading.Lock()


class Runtime(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/2018-06-01/runtime/invocation/next":
            rid, event = events.get()  # blocks, as the real API does
            deadline = str(int(time.time() * 1000) + 30000)
            return self.reply(200, event, [("Lambda-Runtime-Aws-Request-Id", rid), ("Lambda-Runtime-Deadline-Ms", deadline),
                                           ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:tfreg"),
                                           ("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
                                           ("Content-Type", "application/json")])
        if self.path.startswith("/__result/"):
            with lock:
                r = results.get(self.path[len("/__result/"):])
            return self.reply(200, json.dumps(r).encode()) if r else self.reply(404)
        if self.path == "/__init_error":
            return self.reply(200, json.dumps(init_error).encode()) if init_error else self.reply(404)
        self.reply(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.split("/")
        if self.path == "/__enqueue":
            rid = "req-%d" % next(ids)
            events.put((rid, body))
            return self.reply(200, rid.encode())
        if self.path == "/2018-06-01/runtime/init/error":
            init_error.update({"body": body.decode(), "error_type": self.headers.get("Lambda-Runtime-Function-Error-Type")})
            return self.reply(202, b'{"status":"OK"}')
        if len(parts) == 6 and parts[3] == "invocation" and parts[5] in ("response", "error"):
            with lock:
                results[parts[4]] = {"kind": parts[5], "body": body.decode(), "error_type": self.headers.get("Lambda-Runtime-Function-Error-Type")}
            return self.reply(202, b'{"status":"OK"}')
        self.reply(404)

    def log_message(self, *a):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
print(server.server_address[1], flush=True)
server.serve_forever()
