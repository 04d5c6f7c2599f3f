#!/usr/bin/env bash
# make soak: tfreg serve (HTTPS, loopback) under wrk for SOAK_SECONDS with a mix of valid tokens,
# mutated static tokens, garbage sealed (tfi_) tokens and no token, against versions and download.
# Alongside, SOAK_SLOW_READERS (4) connections pipeline requests and never read the answers
# (scripts/slow-reader.py); each must be closed by the server's write deadline (--body-timeout,
# SOAK_BODY_TIMEOUT, 5 s here).
# Fails on any 5xx, any answer other than 200/204/401, a slow reader left open, or a server that
# stops answering; reports the server's VmRSS at the start and the end.
set -euo pipefail
BIN=${TFREG_BIN:?set TFREG_BIN to the tfreg binary}
SECONDS_TO_RUN=${SOAK_SECONDS:-300}
CONNS=${SOAK_CONNECTIONS:-32}
THREADS=${SOAK_THREADS:-2}
SLOW_READERS=${SOAK_SLOW_READERS:-4}
BODY_TIMEOUT=${SOAK_BODY_TIMEOUT:-5}
work=$(mktemp -d /tmp/tfreg-soak.XXXXXX)
pid=""
slow=""
cleanup() { [ -n "$slow" ] && kill "$slow" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" \
  -subj "/CN=soak" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
export TFREG_DATA_DIR="$work/data" SSL_CERT_FILE="$work/cert.pem"
token=$("$BIN" grant create --init --namespace acme --new-token soak --download --upload 2>/dev/null)
mkdir -p "$work/mod"
printf 'output "x" {\n  value = 1\n}\n' > "$work/mod/main.tf"
# IAM on (a local sealing key), so tfi_ tokens go through the sealed-token path.
TFREG_AUDIENCE="127.0.0.1:$port" "$BIN" serve --port "$port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  --body-timeout "$BODY_TIMEOUT" --log-level warning 2>"$work/serve.log" & pid=$!
for _ in $(seq 200); do curl -s --cacert "$work/cert.pem" "https://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
"$BIN" publish "$work/mod" --registry "127.0.0.1:$port" -n acme --name vpc --system aws --module-version 1.0.0 --token "$token" >/dev/null

cat > "$work/mix.lua" <<'LUA'
local token = os.getenv("SOAK_TOKEN")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  counts = {}
  n = 0
  math.randomseed(12345 + #threads)
end
local paths = { "/v1/modules/acme/vpc/aws/versions", "/v1/modules/acme/vpc/aws/1.0.0/download" }
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function pick() local i = math.random(#alphabet); return alphabet:sub(i, i) end
local function mutate(t)
  local at = math.random(5, #t)
  local c = pick()
  while c == t:sub(at, at) do c = pick() end
  return t:sub(1, at - 1) .. c .. t:sub(at + 1)
end
function request()
  n = n + 1
  local path = paths[n % 2 + 1]
  local kind = n % 5
  local headers = {}
  if kind <= 1 then headers["Authorization"] = "Bearer " .. token
  elseif kind == 2 then headers["Authorization"] = "Bearer " .. mutate(token)
  elseif kind == 3 then
    local s = {}
    for i = 1, math.random(20, 200) do s[i] = pick() end
    headers["Authorization"] = "Bearer tfi_" .. table.concat(s)
  end
  return wrk.format("GET", path, headers)
end
function response(status, headers, body)
  local k = tostring(status)
  counts[k] = (counts[k] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %s %d\n", k, v)) end
  local e = summary.errors
  io.write(string.format("socket errors connect %d read %d write %d timeout %d\n", e.connect, e.read, e.write, e.timeout))
end
LUA

rss() { awk '/^VmRSS/ { print $2 " kB" }' "/proc/$pid/status"; }
# Warm up briefly so the start figure is the steady state, not the empty process.
SOAK_TOKEN="$token" wrk -t1 -c4 -d2s -s "$work/mix.lua" "https://127.0.0.1:$port" >/dev/null
start_rss=$(rss)
# The slow readers watch for their close for as long as wrk runs (at least the body timeout + 3 s).
watch=$(( SECONDS_TO_RUN - 2 > BODY_TIMEOUT + 3 ? SECONDS_TO_RUN - 2 : BODY_TIMEOUT + 3 ))
python3 "$(dirname "$0")/slow-reader.py" "$port" 1 "$SLOW_READERS" "$watch" > "$work/slow.out" 2>&1 & slow=$!
SOAK_TOKEN="$token" wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_TO_RUN}s" --timeout 10s -s "$work/mix.lua" "https://127.0.0.1:$port" | tee "$work/wrk.out"
end_rss=$(rss)
echo "VmRSS start $start_rss, end $end_rss"
wait "$slow" || true
slow=""
echo "slow readers: $(grep -E '^(closed|open)' "$work/slow.out" | tr '\n' ' ')"

fail=0
if grep -E '^status 5[0-9][0-9] ' "$work/wrk.out"; then echo "FAIL: 5xx answers"; fail=1; fi
if grep -E '^status ' "$work/wrk.out" | grep -vE '^status (200|204|401) '; then echo "FAIL: unexpected statuses"; fail=1; fi
grep -qE '^status (200|204) ' "$work/wrk.out" || { echo "FAIL: no successful answer"; fail=1; }
grep -qE '^status 401 ' "$work/wrk.out" || { echo "FAIL: no 401 for the invalid tokens"; fail=1; }
[ "$(grep -c '^closed' "$work/slow.out")" = "$SLOW_READERS" ] || { echo "FAIL: a slow reader was not closed:"; cat "$work/slow.out"; fail=1; }
kill -0 "$pid" 2>/dev/null || { echo "FAIL: tfreg serve died"; fail=1; }
curl -sf --cacert "$work/cert.pem" "https://127.0.0.1:$port/health" >/dev/null || { echo "FAIL: /health does not answer after the run"; fail=1; }
if grep -q '"level":"error"\|"level":"critical"' "$work/serve.log"; then echo "FAIL: errors in the server log:"; head -5 "$work/serve.log"; fail=1; fi
[ $fail = 0 ] && echo "soak OK: ${SECONDS_TO_RUN} s, ${CONNS} connections"
exit $fail
