"""A loopback gateway in front of moto, for tests and `make bench`.

moto checks header signatures but cannot check presigned URLs while it does (it reads the
Authorization header unconditionally and answers 500). This gateway closes that gap the way S3
would: a request carrying X-Amz-Signature in its query is verified with botocore's own SigV4
query-signing code (same method, path, query, host and secret; expiry enforced), and only then
fetched from moto with a header-signed request. Every other request is passed to moto untouched,
so moto keeps verifying header signatures itself.

`POST /__fault` with a mode in the body makes forwarded (non-presigned) requests fail, to test how
tfreg behaves when AWS misbehaves: `garbage` (200 with a body that is not the protocol), `truncate`
(moto's answer cut in half), `throttle` (400 ThrottlingException), `error500`, `down` (the
connection is closed without an answer); `none` restores normal forwarding.

It also counts the requests it forwards, by operation (`GET /__counts` returns them as JSON and
`DELETE /__counts` resets them), and the time it spent on them (`GET /__time`): `make bench` uses
that to report AWS calls per registry request and the time a request spent inside AWS calls.

usage: s3_gateway.py MOTO_URL ACCESS_KEY_ID SECRET_ACCESS_KEY   (prints its port, then serves)
"""
import datetime
import http.client
import http.server
import json
import sys
import threading
import time
import urllib.parse

import boto3
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MOTO = urllib.parse.urlsplit(sys.argv[1])
AKID, SECRET = sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=AKID, aws_secret_access_key=SECRET)
lock = threading.Lock()
counts = {}
busy = {"seconds": 0.0}  # time spent on counted requests, from headers read to answer sent
fault = {"mode": "none"}


def count(name):
    with lock:
        counts[name] = counts.get(name, 0) + 1


def operation(handler, query):
    target = handler.headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    if "Action=" in query:
        return urllib.parse.parse_qs(query).get("Action", ["?"])[0]
    return "s3:" + handler.command


class Gateway(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body in one write, sent at once (no 40 ms Nagle/delayed-ACK stall per answer).
    disable_nagle_algorithm = True
    wbufsize = 1 << 16

    def parse_request(self):
        # Busy time starts once the request line is in: header parsing in Python is not tfreg's time.
        self.started = time.monotonic()
        return super().parse_request()

    def send(self, status, headers, body, head=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self.wfile.flush()

    def error(self, status, code, message, head=False):
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        self.send(status, [("Content-Type", "application/xml")], body, head)

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/__time":
            with lock:
                data = json.dumps(busy).encode()
            return self.send(200, [("Content-Type", "application/json")], data)
        if url.path == "/__counts":
            if self.command == "DELETE":
                with lock:
                    counts.clear()
                    busy["seconds"] = 0.0
            with lock:
                data = json.dumps(counts).encode()
            return self.send(200, [("Content-Type", "application/json")], data)
        if url.path == "/__fault":
            fault["mode"] = body.decode().strip()
            return self.send(200, [("Content-Type", "text/plain")], b"ok")
        if "X-Amz-Signature=" in url.query:
            return self.presigned(url)
        count(operation(self, url.query))
        started = self.started
        try:
            self.forward(body)
        finally:
            with lock:
                busy["seconds"] += time.monotonic() - started

    def forward(self, body):
        mode = fault["mode"]
        if mode == "down":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if mode == "garbage":
            return self.send(200, [("Content-Type", "application/x-amz-json-1.0")], b"<html>captive portal</html>")
        if mode == "throttle":
            return self.send(400, [("Content-Type", "application/x-amz-json-1.0")], b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}')
        if mode == "error500":
            return self.send(500, [("Content-Type", "application/x-amz-json-1.0")], b'{"__type":"InternalServerError","message":"boom"}')
        conn = http.client.HTTPConnection(MOTO.hostname, MOTO.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        conn.request(self.command, self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        if mode == "truncate":
            data = data[: len(data) // 2]
        out = [(k, v) for k, v in r.getheaders() if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server")]
        self.send(r.status, out, data, head=self.command == "HEAD")
        conn.close()

    def presigned(self, url):
        head = self.command == "HEAD"
        pairs = [p.partition("=") for p in url.query.split("&") if p]
        params = {}
        for k, _, v in pairs:
            if k in params:
                return self.error(400, "InvalidArgument", "repeated query parameter", head)
            params[k] = urllib.parse.unquote(v)
        try:
            scope = params["X-Amz-Credential"].split("/")
            akid, date, region, service = scope[0], scope[1], scope[2], scope[3]
            stamp = params["X-Amz-Date"]
            expires = int(params["X-Amz-Expires"])
            signature = params["X-Amz-Signature"]
        except (KeyError, IndexError, ValueError):
            return self.error(400, "AuthorizationQueryParametersError", "incomplete presigned query", head)
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or service != "s3" or not stamp.startswith(date):
            return self.error(400, "AuthorizationQueryParametersError", "bad algorithm or credential scope", head)
        if akid != AKID:
            return self.error(403, "InvalidAccessKeyId", "unknown access key", head)
        signed_at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if not 1 <= expires <= 604800 or datetime.datetime.now(datetime.timezone.utc) > signed_at + datetime.timedelta(seconds=expires):
            return self.error(403, "AccessDenied", "Request has expired", head)
        # Recompute with botocore: canonical request over the method actually used, the raw path and
        # query (minus the signature), the signed headers as received, UNSIGNED-PAYLOAD.
        unsigned_query = "&".join(f"{k}={v}" for k, _, v in pairs if k != "X-Amz-Signature")
        signed_headers = params.get("X-Amz-SignedHeaders", "host").split(";")
        headers = {h: self.headers.get(h, "") for h in signed_headers}
        request = AWSRequest(method=self.command, url=f"http://{self.headers['Host']}{url.path}?{unsigned_query}", headers=headers)
        request.context["timestamp"] = stamp
        auth = S3SigV4QueryAuth(Credentials(AKID, SECRET, params.get("X-Amz-Security-Token")), "s3", region, expires=expires)
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if expected != signature:
            count("presigned-rejected-" + self.command)
            return self.error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", head)
        count("presigned-" + self.command)
        bucket, _, key = url.path.lstrip("/").partition("/")
        key = urllib.parse.unquote(key)
        try:
            obj = (s3.head_object if head else s3.get_object)(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError as e:
            code = e.response["Error"]["Code"]
            return self.error(404 if code in ("404", "NoSuchKey", "NotFound") else 500, code, "upstream error", head)
        data = b"" if head else obj["Body"].read()
        out = [("Content-Type", obj.get("ContentType", "binary/octet-stream")), ("ETag", obj["ETag"])]
        if head:
            self.send_response(200)
            for k, v in out:
                self.send_header(k, v)
            self.send_header("Content-Length", str(obj["ContentLength"]))
            self.end_headers()
            return
        self.send(200, out, data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
print(server.server_address[1], flush=True)
server.serve_forever()
