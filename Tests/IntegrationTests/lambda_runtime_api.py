"""A Lambda Runtime API (2018-06-01) on loopback, for driving `tfreg lambda` as a real process.

As a program (the Swift tests): prints its port, then serves. The test enqueues events with
POST /__enqueue (body: the event JSON; the reply is the request id), and reads what the function
answered with GET /__result/ID (404 until there is one):
{"kind": "response"|"error", "body": ..., "error_type": ...}. /__init_error returns the init error.

As a module (scripts/bench_lambda.py): RuntimeAPI() starts one on a thread; enqueue(), wait() and
the timestamps it keeps (time.monotonic(), which is CLOCK_MONOTONIC and so comparable with the
benchmark's own clock): when each /next poll arrived, when each event was handed out, when its
answer arrived.
usage: lambda_runtime_api.py
"""
import http.server, itertools, json, queue, sys, threading, time

# Thread hand-offs in microseconds, not the default 5 ms GIL switch interval: the timestamps below
# are taken by threads that must first get the GIL.
sys.setswitchinterval(1e-5)


class RuntimeAPI:
    def __init__(self):
        self.events = queue.Queue()
        self.results = {}
        self.init_error = {}
        self.next_polls = []     # arrival time of every GET /next
        self.handed_out = {}     # request id → time its event was about to be sent to the function
        self.answered = {}       # request id → time its answer arrived (headers read, before the body)
        self.ids = itertools.count(1)
        self.cond = threading.Condition()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one write, sent at once: with Nagle on and the two written apart,
            # the body waits for the client's delayed ACK (40 ms), which no real Runtime API adds.
            disable_nagle_algorithm = True
            wbufsize = 1 << 16

            def parse_request(self):
                # The request line has been read; what follows (Python parsing the headers) is the
                # harness's time, not the function's: an answer counts as arrived from here.
                self.started = time.monotonic()
                return super().parse_request()

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def do_GET(self):
                if self.path == "/2018-06-01/runtime/invocation/next":
                    with api.cond:
                        api.next_polls.append(time.monotonic())
                    rid, event = api.events.get()  # blocks, as the real API does
                    deadline = str(int(time.time() * 1000) + 30000)
                    with api.cond:
                        api.handed_out[rid] = time.monotonic()  # before the write: the function may answer at once
                    self.reply(200, event, [("Lambda-Runtime-Aws-Request-Id", rid), ("Lambda-Runtime-Deadline-Ms", deadline),
                                            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:tfreg"),
                                            ("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
                                            ("Content-Type", "application/json")])
                    return
                if self.path.startswith("/__result/"):
                    with api.cond:
                        r = api.results.get(self.path[len("/__result/"):])
                    return self.reply(200, json.dumps(r).encode()) if r else self.reply(404)
                if self.path == "/__init_error":
                    return self.reply(200, json.dumps(api.init_error).encode()) if api.init_error else self.reply(404)
                self.reply(404)

            def do_POST(self):
                arrived = self.started
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.split("/")
                if self.path == "/__enqueue":
                    return self.reply(200, api.enqueue(body).encode())
                if self.path == "/2018-06-01/runtime/init/error":
                    with api.cond:
                        api.init_error.update({"body": body.decode(), "error_type": self.headers.get("Lambda-Runtime-Function-Error-Type")})
                        api.cond.notify_all()
                    return self.reply(202, b'{"status":"OK"}')
                if len(parts) == 6 and parts[3] == "invocation" and parts[5] in ("response", "error"):
                    with api.cond:
                        api.answered[parts[4]] = arrived
                        api.results[parts[4]] = {"kind": parts[5], "body": body.decode(), "error_type": self.headers.get("Lambda-Runtime-Function-Error-Type")}
                        api.cond.notify_all()
                    return self.reply(202, b'{"status":"OK"}')
                self.reply(404)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def enqueue(self, event):
        rid = "req-%d" % next(self.ids)
        self.events.put((rid, event if isinstance(event, bytes) else event.encode()))
        return rid

    def wait(self, rid, timeout=60):
        with self.cond:
            if not self.cond.wait_for(lambda: rid in self.results, timeout):
                raise TimeoutError("no answer for " + rid)
            return self.results[rid]

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    api = RuntimeAPI()
    print(api.port, flush=True)
    api.server.serve_forever()
