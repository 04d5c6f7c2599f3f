#!/usr/bin/env bash
# make bench-compare BASE=<commit>: the serve hot path of two tfreg binaries in ONE run, against the
# same nginx, same wrk settings, in BENCH_ROUNDS short rounds (each row's nginx, base and new back to back)
# so machine noise hits all three. Prints a markdown table of medians: each row's ratio to nginx and new/base.
#   scripts/bench-compare.sh BASE_BIN NEW_BIN
set -euo pipefail
BASE_BIN=${1:?base tfreg binary}; NEW_BIN=${2:?new tfreg binary}
DURATION=${BENCH_DURATION:-4s}; CONNS=${BENCH_CONNECTIONS:-64}; THREADS=${BENCH_THREADS:-2}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d /tmp/tfreg-compare.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
. "$(dirname "$0")/bench-lib.sh"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" \
  -subj "/CN=bench" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
mkdir -p "$work/mod"; printf 'output "x" {\n  value = 1\n}\n' > "$work/mod/main.tf"

# Sealed IAM tokens need STS: moto (signature checks on) answers GetCallerIdentity for the user "bench".
start_moto "$work"; pids+=("$moto_pid")
client_env=(env HOME="$work/client-home" SSL_CERT_FILE="$work/cert.pem" AWS_ACCESS_KEY_ID="$akid" AWS_SECRET_ACCESS_KEY="$secret"
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true)
mkdir -p "$work/client-home"

declare -A HTTP HTTPS TOKEN IAMTOKEN PID_HTTP PID_HTTPS
for which in base new; do
  bin=$BASE_BIN; [ $which = new ] && bin=$NEW_BIN
  export TFREG_DATA_DIR="$work/data-$which"
  # --init creates the registry (a BASE from before --init existed creates it without).
  TOKEN[$which]=$("$bin" grant create --init --namespace acme --new-token bench --download --upload 2>/dev/null \
    || "$bin" grant create --namespace acme --new-token bench --download --upload 2>/dev/null)
  HTTP[$which]=$(free_port); HTTPS[$which]=$(free_port)
  "$bin" serve --port "${HTTP[$which]}" --log-level warning 2>"$work/$which-http.log" & pids+=($!); PID_HTTP[$which]=$!
  "$bin" grant create -n acme -r arn:aws:iam::123456789012:user/bench -d >/dev/null 2>&1
  TFREG_AUDIENCE="127.0.0.1:${HTTPS[$which]}" AWS_ENDPOINT_URL_STS="http://127.0.0.1:$moto_port" AWS_EC2_METADATA_DISABLED=true \
  "$bin" serve --port "${HTTPS[$which]}" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log-level warning 2>"$work/$which-https.log" & pids+=($!); PID_HTTPS[$which]=$!
  for p in ${HTTP[$which]} ${HTTPS[$which]}; do
    for _ in $(seq 100); do curl -sk "http$([ $p = ${HTTPS[$which]} ] && echo s)://127.0.0.1:$p/health" >/dev/null && break; sleep 0.05; done
  done
  for v in 1.0.0 1.1.0 1.2.0 2.0.0; do
    # --system and the old --version: BASE may predate --module-version (and --system was --provider for a while).
    SSL_CERT_FILE="$work/cert.pem" "$bin" publish "$work/mod" --registry "127.0.0.1:${HTTPS[$which]}" -n acme --name vpc --system aws --version $v --token "${TOKEN[$which]}" >/dev/null 2>&1
  done
  IAMTOKEN[$which]=$("${client_env[@]}" "$bin" token -r "127.0.0.1:${HTTPS[$which]}" -T 3600 token)
done
unset TFREG_DATA_DIR
versions_json=$(curl -s -H "Authorization: Bearer ${TOKEN[new]}" "http://127.0.0.1:${HTTP[new]}/v1/modules/acme/vpc/aws/versions")
mkdir -p "$work/nginx/html/v1/modules/acme/vpc/aws" "$work/nginx/logs"
printf '%s' "$versions_json" > "$work/nginx/html/v1/modules/acme/vpc/aws/versions"
nginx_http=$(free_port); nginx_https=$(free_port)
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off; default_type application/json; keepalive_requests 1000000;
  server { listen 127.0.0.1:$nginx_http; listen 127.0.0.1:$nginx_https ssl;
           ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; root $work/nginx/html; }
}
CONF
chmod 755 "$work"; chmod -R a+rX "$work/nginx"
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>"$work/nginx/stderr.log" & pids+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$nginx_http/v1/modules/acme/vpc/aws/versions" >/dev/null && break; sleep 0.05; done

run_wrk() {
  local url=$1; shift
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@" "$url" 2>&1 | awk '/Requests\/sec/ { printf "%.0f", $2 } /Non-2xx/ { bad=$NF } END { if (bad != "") printf " BAD(%s)", bad }'
}
declare -A R
# ROUNDS short rounds; in each, every row's nginx, base and new figures are taken back to back (base
# first in odd rounds, new first in even ones), and the ratios are computed per round. The table shows
# medians over the rounds: a neighbour's burst moves one round's figures, not the median.
ROUNDS=${BENCH_ROUNDS:-5}
for round in $(seq "$ROUNDS"); do
  order="base new"; [ $((round % 2)) = 0 ] && order="new base"
  R[nginx_http_$round]=$(run_wrk "http://127.0.0.1:$nginx_http/v1/modules/acme/vpc/aws/versions")
  for which in $order; do
    a=(-H "Authorization: Bearer ${TOKEN[$which]}")
    R[${which}_http_versions_$round]=$(run_wrk "http://127.0.0.1:${HTTP[$which]}/v1/modules/acme/vpc/aws/versions" "${a[@]}")
    R[${which}_http_download_$round]=$(run_wrk "http://127.0.0.1:${HTTP[$which]}/v1/modules/acme/vpc/aws/1.2.0/download" "${a[@]}")
  done
  R[nginx_https_$round]=$(run_wrk "https://127.0.0.1:$nginx_https/v1/modules/acme/vpc/aws/versions")
  for which in $order; do
    a=(-H "Authorization: Bearer ${TOKEN[$which]}")
    R[${which}_https_versions_$round]=$(run_wrk "https://127.0.0.1:${HTTPS[$which]}/v1/modules/acme/vpc/aws/versions" "${a[@]}")
    R[${which}_https_sealed_$round]=$(run_wrk "https://127.0.0.1:${HTTPS[$which]}/v1/modules/acme/vpc/aws/versions" -H "Authorization: Bearer ${IAMTOKEN[$which]}")
    R[${which}_https_download_$round]=$(run_wrk "https://127.0.0.1:${HTTPS[$which]}/v1/modules/acme/vpc/aws/1.2.0/download" "${a[@]}")
  done
done
rss() { awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$1/status"; }
# median over the rounds of A_r (or of A_r/B_r when B is given)
median() {
  local a=$1 b=${2:-} r vals=()
  for r in $(seq "$ROUNDS"); do
    if [ -n "$b" ]; then vals+=("$(awk -v x="${R[${a}_$r]%% *}" -v y="${R[${b}_$r]%% *}" 'BEGIN { printf "%.6f", x/y }')")
    else vals+=("${R[${a}_$r]%% *}"); fi
  done
  printf '%s\n' "${vals[@]}" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'
}
echo
echo "## tfreg serve, base vs new, same run — wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS interleaved rounds, medians, $(nproc) cores"
echo
echo "| request | nginx req/s | base req/s | new req/s | base/nginx | new/nginx | new/base |"
echo "|---|---|---|---|---|---|---|"
for t in http_versions http_download https_versions https_download; do
  scheme=${t%%_*}
  awk -v t="$t" -v n="$(median nginx_$scheme)" -v b="$(median base_$t)" -v w="$(median new_$t)" \
    -v bn="$(median base_$t nginx_$scheme)" -v wn="$(median new_$t nginx_$scheme)" -v wb="$(median new_$t base_$t)" \
    'BEGIN { printf "| %s | %d | %d | %d | %.0f %% | %.0f %% | %.2f |\n", t, n, b, w, 100*bn, 100*wn, wb }'
done
echo
echo "| sealed IAM token vs static token (HTTPS versions) | | base | new | | | |"
echo "|---|---|---|---|---|---|---|"
awk -v bs="$(median base_https_sealed)" -v ns="$(median new_https_sealed)" -v br="$(median base_https_sealed base_https_versions)" \
  -v nr="$(median new_https_sealed new_https_versions)" -v wb="$(median new_https_sealed base_https_sealed)" \
  'BEGIN { printf "| https_sealed req/s (sealed/static) | | %d (%.0f %%) | %d (%.0f %%) | | | %.2f |\n", bs, 100*br, ns, 100*nr, wb }'
echo
echo "raw: $(for k in $(printf '%s\n' "${!R[@]}" | sort); do printf '%s=%s ' "$k" "${R[$k]}"; done)"
echo "peak RSS (VmHWM) MiB: base http $(rss ${PID_HTTP[base]}) https $(rss ${PID_HTTPS[base]}); new http $(rss ${PID_HTTP[new]}) https $(rss ${PID_HTTPS[new]})"
