#!/usr/bin/env python3
"""make bench, Lambda part: the `bootstrap` unpacked from the Lambda zip, driven by the loopback
Runtime API (Tests/IntegrationTests/lambda_runtime_api.py) on DynamoDB + S3 + KMS in moto (signatures
checked), every AWS call passing through the counting gateway (Tests/IntegrationTests/s3_gateway.py).

Measured from outside the function, on CLOCK_MONOTONIC:
  cold start   process start → first GET /next; → first response (discovery, no AWS call); and the
               first authorized versions request of a fresh process (its KMS Decrypt included)
  warm         per invocation, inside the process (the function's debug log line): the handler's
               time, split into time inside AWS calls (HTTP calls, from request to parsed answer)
               and tfreg's own time (the rest); and from outside, event handed out → answer
               arrived, which adds the Runtime API exchange with this Python server
  AWS calls    per invocation, by operation, KMS separately
  peak RSS     VmHWM of the warm process after all invocations
usage: bench_lambda.py BOOTSTRAP TFREG_BIN ZIP
"""
import hashlib, io, json, os, signal, socket, statistics, subprocess, sys, tarfile, tempfile, threading, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "IntegrationTests"))
from lambda_runtime_api import RuntimeAPI  # noqa: E402

BOOTSTRAP, TFREG, ZIP = sys.argv[1], sys.argv[2], sys.argv[3]
WARM_N = int(os.environ.get("BENCH_LAMBDA_INVOCATIONS", "200"))
COLD_N = int(os.environ.get("BENCH_LAMBDA_COLD_STARTS", "10"))
HOST = "registry.example.com"
ROLE = "arn:aws:iam::123456789012:role/dev"
children = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(url, method="GET"):
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=30) as r:
        return r.read()


def start_moto():
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    children.append(subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for _ in range(300):  # a TCP probe: an HTTP request would use up one of the unauthenticated setup calls
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    import boto3
    ep = f"http://127.0.0.1:{port}"
    iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
    iam.create_user(UserName="bench")
    key = iam.create_access_key(UserName="bench")["AccessKey"]
    iam.put_user_policy(UserName="bench", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    return ep, key["AccessKeyId"], key["SecretAccessKey"]


def start_gateway(moto, akid, secret):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "Tests", "IntegrationTests", "s3_gateway.py"), moto, akid, secret],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    children.append(p)
    return f"http://127.0.0.1:{int(p.stdout.readline())}"


def setup(moto, akid, secret):
    import boto3
    kw = dict(endpoint_url=moto, region_name="us-east-1", aws_access_key_id=akid, aws_secret_access_key=secret)
    boto3.client("dynamodb", **kw).create_table(
        TableName="bench", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        data = b'output "x" {\n  value = 1\n}\n'
        info = tarfile.TarInfo("main.tf")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    archive = buf.getvalue()
    boto3.client("s3", **kw).create_bucket(Bucket="bench-archives")
    boto3.client("s3", **kw).put_object(Bucket="bench-archives", Key="acme/vpc.tar.gz", Body=archive)
    checksum = __import__("base64").b64encode(hashlib.sha256(archive).digest()).decode()
    table = boto3.resource("dynamodb", **kw).Table("bench")
    for v in ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]:  # the item layout of the tool tfreg replaces
        table.put_item(Item={"pk": "acme", "sk": f"Module~acme~vpc~aws~{v}", "namespace": "acme", "system": "aws", "name": "vpc",
                             "version": v, "bucket": "bench-archives", "key": "acme/vpc.tar.gz", "expected_checksum": checksum})
    key = boto3.client("kms", **kw).create_key(Description="tfreg bench")["KeyMetadata"]["Arn"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret, AWS_REGION="us-east-1", AWS_ENDPOINT_URL=moto,
               AWS_EC2_METADATA_DISABLED="true", HOME=tempfile.mkdtemp())
    subprocess.run([TFREG, "grant", "create", "--table", "bench", "-n", "acme", "-r", ROLE, "-d"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key


def v2_event(path, query="", token=None, iam_arn=None):
    headers = {"host": HOST, "user-agent": "Terraform/1.11.4"}
    if token:
        headers["authorization"] = "Bearer " + token
    ctx = {"accountId": "123456789012", "apiId": "abc123", "domainName": HOST, "domainPrefix": "registry", "requestId": "r",
           "routeKey": "$default", "stage": "$default", "time": "26/Nov/2026:12:00:00 +0000", "timeEpoch": 1795780800000,
           "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "Terraform/1.11.4"}}
    if iam_arn:
        ctx["authorizer"] = {"iam": {"accountId": "123456789012", "callerId": "AROAEXAMPLE:alice", "userArn": iam_arn, "userId": "AROAEXAMPLE:alice"}}
    return json.dumps({"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query, "headers": headers,
                       "requestContext": ctx, "isBase64Encoded": False})


def function_env(api, gateway, akid, secret, kms_key):
    return {"PATH": "/usr/bin:/bin", "HOME": tempfile.mkdtemp(), "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
            "AWS_ACCESS_KEY_ID": akid, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": gateway,
            "AWS_EC2_METADATA_DISABLED": "true", "TABLE_NAME": "bench", "RESOLVER_TYPE": "API_GATEWAY_HTTP",
            "IAM_AUTH_KMS_KEY": kms_key, "TFREG_AUDIENCE": HOST, "TFREG_TOKEN_SERVICE": "execute-api", "LOG_LEVEL": "debug",
            "AWS_LAMBDA_FUNCTION_NAME": "tfreg", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}


def spawn(api, env, lines=None):
    """Starts the function; with `lines` (a dict), its debug "invocation" log lines are collected by request id."""
    p = subprocess.Popen([BOOTSTRAP], env=env, stdout=subprocess.PIPE if lines is not None else subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    children.append(p)
    if lines is not None:
        def read():
            for raw in p.stdout:
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                if entry.get("message") == "invocation" and "request_id" in entry:
                    with lines["cond"]:
                        lines[entry["request_id"]] = entry
                        lines["cond"].notify_all()
        threading.Thread(target=read, daemon=True).start()
    return p


def log_line(lines, rid):
    with lines["cond"]:
        if not lines["cond"].wait_for(lambda: rid in lines, 10):
            raise TimeoutError("no invocation log line for " + rid)
        return lines[rid]


def status_of(result):
    return json.loads(result["body"]).get("statusCode") if result["kind"] == "response" else result["error_type"]


def invoke(api, gateway, lines, event):
    """One measured invocation: (status, handler s, in AWS calls s, outside latency s, calls by operation)."""
    get(gateway + "/__counts", "DELETE")
    rid = api.enqueue(event)
    r = api.wait(rid)
    entry = log_line(lines, rid)
    calls = json.loads(get(gateway + "/__counts"))
    assert int(entry["aws_calls"]) == sum(calls.values()), (entry, calls)  # the function counted what the gateway saw
    return (status_of(r), int(entry["handler_us"]) / 1e6, int(entry["aws_us"]) / 1e6, api.answered[rid] - api.handed_out[rid], calls)


def cpu_seconds(pid):
    """User + system CPU time of a process so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ms(x):
    return f"{x * 1000:.2f}"


def main():
    moto, akid, secret = start_moto()
    gateway = start_gateway(moto, akid, secret)
    kms_key = setup(moto, akid, secret)

    # --- warm: one process, a token from GET /token (IAM identity in the v2 request context)
    api = RuntimeAPI().start()
    lines = {"cond": threading.Condition()}
    warm = spawn(api, function_env(api, gateway, akid, secret, kms_key), lines)
    answer = api.wait(api.enqueue(v2_event("/token", "expiration_seconds=3600", iam_arn="arn:aws:sts::123456789012:assumed-role/dev/alice")))
    token = json.loads(answer["body"])["body"]  # no Accept: application/json, so the bare token as text
    cases = [("discovery", v2_event("/.well-known/terraform.json")),
             ("versions, IAM token", v2_event("/v1/modules/acme/vpc/aws/versions", token=token)),
             ("download, IAM token", v2_event("/v1/modules/acme/vpc/aws/1.2.0/download", token=token))]
    rows = []
    for label, event in cases:
        for _ in range(5):
            invoke(api, gateway, lines, event)  # warm-up
        profile = None
        if os.environ.get("BENCH_LAMBDA_PERF") and label.startswith("versions"):  # perf record of this row
            profile = subprocess.Popen(["perf", "record", "-F", "4000", "-g", "-p", str(warm.pid), "-o", os.environ["BENCH_LAMBDA_PERF"]],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        cpu0 = cpu_seconds(warm.pid)
        samples = [invoke(api, gateway, lines, event) for _ in range(WARM_N)]
        cpu = (cpu_seconds(warm.pid) - cpu0) / WARM_N
        if profile:
            profile.send_signal(signal.SIGINT)
            profile.wait()
        statuses = sorted({s[0] for s in samples}, key=str)
        handler = [s[1] for s in samples]
        aws = [s[2] for s in samples]
        own = [s[1] - s[2] for s in samples]
        outside = [s[3] for s in samples]
        ops = {}
        for s in samples:
            for k, v in s[4].items():
                ops[k] = ops.get(k, 0) + v
        kms = sum(v for k, v in ops.items() if k in ("Decrypt", "GenerateDataKey", "Encrypt"))
        rows.append((label, statuses, statistics.median(handler), statistics.median(aws), statistics.median(own),
                     sorted(own)[int(len(own) * 0.9)], sum(ops.values()) / WARM_N, kms / WARM_N,
                     ", ".join(f"{k} {v / WARM_N:g}" for k, v in sorted(ops.items())) or "none", statistics.median(outside), cpu))
    with open(f"/proc/{warm.pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    warm.kill()
    warm.wait()

    # --- cold starts: a fresh Runtime API and process each time, events queued before the start
    cold = []
    for _ in range(COLD_N):
        capi = RuntimeAPI().start()
        env = function_env(capi, gateway, akid, secret, kms_key)
        first = capi.enqueue(v2_event("/.well-known/terraform.json"))
        second = capi.enqueue(v2_event("/v1/modules/acme/vpc/aws/versions", token=token))
        get(gateway + "/__counts", "DELETE")
        clines = {"cond": threading.Condition()}
        t0 = time.monotonic()
        p = spawn(capi, env, clines)
        r1 = capi.wait(first)
        r2 = capi.wait(second)
        entry = log_line(clines, second)
        calls = json.loads(get(gateway + "/__counts"))
        assert status_of(r1) == 200 and status_of(r2) == 200, (r1, r2)
        cold.append((capi.next_polls[0] - t0, capi.answered[first] - t0, int(entry["handler_us"]) / 1e6, int(entry["aws_us"]) / 1e6,
                     sum(calls.values()), calls.get("Decrypt", 0)))
        p.kill()
        p.wait()
        capi.stop()

    zip_mb = os.path.getsize(ZIP) / 1e6
    print()
    print(f"## Lambda — `bootstrap` from {os.path.basename(ZIP)}, loopback Runtime API, moto behind the counting gateway")
    print()
    print(f"Warm: one process, {WARM_N} invocations per row after 5 warm-up; medians (own p90 too). Payload v2 events.")
    print("Handler time and its AWS part are measured inside the process; \"outside\" is event handed out → answer")
    print("arrived at the Python Runtime API (adds the loopback exchange and Python's scheduling).")
    print()
    print("| invocation | status | handler ms | in AWS calls ms | tfreg own ms | own p90 ms | outside ms | process CPU ms | AWS calls | KMS calls | by operation |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, st, lat, aws, own, own90, calls, kms, ops, outside, cpu in rows:
        print(f"| {label} | {'/'.join(map(str, st))} | {ms(lat)} | {ms(aws)} | {ms(own)} | {ms(own90)} | {ms(outside)} | {ms(cpu)} | {calls:g} | {kms:g} | {ops} |")
    print()
    med = lambda i: statistics.median(c[i] for c in cold)
    print(f"Cold starts: {COLD_N} fresh processes, medians.")
    print()
    print("| measure | tfreg | goal | tool tfreg replaces |")
    print("|---|---|---|---|")
    lo, hi = min(c[0] for c in cold), max(c[0] for c in cold)
    print(f"| process start → first `next` | {ms(med(0))} ms (min {ms(lo)}, max {ms(hi)}) | ≤ 25 ms | ≈ 470 ms |")
    print(f"| process start → first response (discovery) | {ms(med(1))} ms | | |")
    print(f"| first authorized versions of a fresh process (KMS Decrypt + DynamoDB, moto) | {ms(med(2))} ms, of which AWS {ms(med(3))} ms, own {ms(med(2) - med(3))} ms; {med(4):g} AWS calls, {med(5):g} KMS | | |")
    own_worst = max(r[4] for r in rows)
    calls_worst = max(r[6] for r in rows[1:])
    kms_worst = max(r[7] for r in rows[1:])
    print(f"| tfreg's own time per warm request (worst median above) | {ms(own_worst)} ms | ≤ 0.5 ms | ≈ 8 ms |")
    print(f"| AWS calls per warm versions / download | {rows[1][6]:g} / {rows[2][6]:g} ({kms_worst:g} KMS) | ≤ 2, 0 KMS | 7 (4 KMS) / 8 |")
    print(f"| peak RSS (VmHWM, warm process, after {3 * (WARM_N + 5) + 1} invocations) | {rss:.1f} MiB | ≤ 40 MiB | 72 MiB |")
    print(f"| zip size | {zip_mb:.1f} MB | ≤ 25 MB | |")
    print()
    print("Time in AWS calls here is moto's and the Python gateway's, far slower than DynamoDB's: compare tfreg's")
    print(f"own time, calls and RSS, not latency, with AWS. Met: cold start {'yes' if med(0) <= 0.025 else 'NO'}, own time {'yes' if own_worst <= 0.0005 else 'NO'}, "
          f"calls {'yes' if calls_worst <= 2 and kms_worst == 0 else 'NO'}, RSS {'yes' if rss <= 40 else 'NO'}, zip {'yes' if zip_mb <= 25 else 'NO'}.")


try:
    main()
finally:
    for c in children:
        if c.poll() is None:
            c.send_signal(signal.SIGKILL)
            c.wait()
