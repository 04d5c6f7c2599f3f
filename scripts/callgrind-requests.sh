#!/usr/bin/env bash
# Instructions per request of `tfreg serve` (HTTPS, loopback), counted by valgrind's callgrind, which
# is repeatable on a shared machine where wall-clock benchmarks are not: the server runs under
# callgrind, one keep-alive TLS connection sends WARMUP requests, the counters are zeroed, then
# REQUESTS more (authorized GET …/versions) are counted and dumped.
# Prints "instructions per request: N" and leaves the profile in $CALLGRIND_OUT (callgrind_annotate).
# Usage: TFREG_BIN=.build/release/tfreg scripts/callgrind-requests.sh
#        SEALED=1 …: the requests carry a sealed IAM token (moto answers the one STS call) instead of a static one.
#        TARGET=download …: the requests ask for a version's download link (204 + X-Terraform-Get) instead.
set -euo pipefail
BIN=${TFREG_BIN:?set TFREG_BIN to a release build of tfreg}
REQUESTS=${REQUESTS:-2000}
WARMUP=${WARMUP:-200}
OUT=${CALLGRIND_OUT:-/tmp/tfreg-callgrind.out}
work=$(mktemp -d /tmp/tfreg-callgrind.XXXXXX)
pid=""
moto_pid=""
cleanup() { for p in $pid $moto_pid; do kill "$p" 2>/dev/null; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" \
  -subj "/CN=cg" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
export TFREG_DATA_DIR="$work/data"
# valgrind 3.19 cannot read the DWARF 5 Swift emits (it gives up) and writes into the read-only signal
# mask libdispatch hands to sigsuspend (the server crashes): profile a copy without debug info (function
# symbols stay), with a small preload that passes sigsuspend a writable copy of the mask.
strip --strip-debug -o "$work/tfreg" "$BIN"
cat > "$work/shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
int sigsuspend(const sigset_t *mask) {
    static int (*real)(const sigset_t *);
    if (!real) real = (int (*)(const sigset_t *))dlsym(RTLD_NEXT, "sigsuspend");
    sigset_t copy = *mask;
    return real(&copy);
}
C
cc -shared -fPIC -O2 -o "$work/shim.so" "$work/shim.c" -ldl
serve_env=()
if [ "${SEALED:-0}" = 1 ]; then
  . "$(dirname "$0")/bench-lib.sh"
  start_moto "$work"
  serve_env=(TFREG_AUDIENCE="127.0.0.1:$port" AWS_ENDPOINT_URL_STS="http://127.0.0.1:$moto_port" AWS_EC2_METADATA_DISABLED=true)
fi
token=$("$BIN" grant create --init --namespace acme --new-token cg --download --upload 2>/dev/null)
env "${serve_env[@]}" LD_PRELOAD="$work/shim.so" valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$work/tfreg" serve --port "$port" \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log-level warning 2>"$work/serve.log" & pid=$!
for _ in $(seq 600); do curl -s --cacert "$work/cert.pem" "https://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
# The module the requests read (as in make bench: the answer is a 200 with its versions, not a 404).
mkdir -p "$work/mod" && printf 'output "x" {\n  value = 1\n}\n' > "$work/mod/main.tf"
for v in 1.0.0 1.1.0 1.2.0 2.0.0; do
  SSL_CERT_FILE="$work/cert.pem" TFREG_TOKEN="$token" HOME="$work" "$BIN" publish "$work/mod" --registry "127.0.0.1:$port" \
    -n acme --name vpc --system aws --version "$v" >/dev/null
done
if [ "${SEALED:-0}" = 1 ]; then
  "$BIN" grant create -n acme -r arn:aws:iam::123456789012:user/bench -d >/dev/null 2>&1
  token=$(env HOME="$work" SSL_CERT_FILE="$work/cert.pem" AWS_ACCESS_KEY_ID="$akid" AWS_SECRET_ACCESS_KEY="$secret" AWS_REGION=us-east-1 \
    AWS_EC2_METADATA_DISABLED=true "$BIN" token -r "127.0.0.1:$port" -T 3600 token)
fi
case "${TARGET:-versions}" in
  versions) path=/v1/modules/acme/vpc/aws/versions; status=200 ;;
  download) path=/v1/modules/acme/vpc/aws/1.2.0/download; status=204 ;;
  *) echo "TARGET is versions or download" >&2; exit 2 ;;
esac
run() {
  python3 - "$port" "$work/cert.pem" "$token" "$1" "$path" "$status" <<'PY'
import http.client, ssl, sys
port, cert, token, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
path, status = sys.argv[5], int(sys.argv[6])
c = http.client.HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(cafile=cert))
for _ in range(n):
    c.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = c.getresponse()
    r.read()
    assert r.status == status, r.status
PY
}
run "$WARMUP"
callgrind_control --zero "$pid" >/dev/null
run "$REQUESTS"
callgrind_control --dump=measured "$pid" >/dev/null
sleep 1
dump=$(ls -t "$work"/cg.*.* 2>/dev/null | head -1)
cp "$dump" "$OUT"
total=$(awk '/^summary:|^totals:/ { print $2; exit }' "$OUT")
echo "instructions: $total for $REQUESTS requests"
echo "instructions per request: $(( total / REQUESTS ))"
