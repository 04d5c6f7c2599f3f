#!/usr/bin/env bash
# make bench: tfreg serve vs nginx serving the same versions JSON as a static file, same machine,
# same run, same wrk settings. Prints a markdown table. Compare ratios, not absolute numbers.
set -euo pipefail
BIN=${TFREG_BIN:?set TFREG_BIN to the tfreg binary}
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
work=$(mktemp -d /tmp/tfreg-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

. "$(dirname "$0")/bench-lib.sh"

# wrk → "req/s p50 p99" (latency in ms)
run_wrk() {
  local url=$1; shift
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url" > "$work/wrk.out" 2>&1 || true
  awk '
    function ms(v) { if (v ~ /us$/) return substr(v,1,length(v)-2)/1000; if (v ~ /ms$/) return substr(v,1,length(v)-2)+0; if (v ~ /s$/) return substr(v,1,length(v)-1)*1000; return v }
    /Requests\/sec/ { rps=$2 }
    $1=="50%" { p50=ms($2) }
    $1=="99%" { p99=ms($2) }
    /Non-2xx or 3xx responses/ { bad=$NF }
    END { printf "%.0f %.2f %.2f %s\n", rps, p50, p99, (bad==""?0:bad) }' "$work/wrk.out"
}

# --- Scaling: list and search latency with 100 and 10 000 module versions (SQLite), 20 modules each
# time. Listing reads one summary per module (never the versions), so 10 000 versions should cost about
# what 100 do (a page reads only its rows: see docs/architecture.md "Listing reads module summaries"). The
# versions are written straight into the database (publishing 10 000 archives would take minutes), with
# the summary row a publish leaves beside them (dropping the table and setting the schema back, as this
# did before, no longer opens: later migrations would run twice). `BENCH_ONLY=scaling` runs only this part.
scaling_rows() {
  local sizes=("20 5" "20 500") size modules versions dir tok port pid
  echo
  echo "## Listing scaling — serve on SQLite, wrk -t1 -c4 -d${SCALING_DURATION:-3s}, $(nproc) cores (indicative)"
  echo
  printf '| %-10s | %-8s | %-26s | %10s | %8s | %8s |\n' "versions" "modules" "request" "req/s" "p50 ms" "p99 ms"
  printf '|%s|%s|%s|%s|%s|%s|\n' "------------" "----------" "----------------------------" "------------" "----------" "----------"
  for size in "${sizes[@]}"; do
    read -r modules versions <<< "$size"
    dir="$work/scaling-$modules-$versions"
    tok=$(TFREG_DATA_DIR="$dir" "$BIN" grant create --init --namespace acme --new-token scaling --download 2>/dev/null)
    python3 - "$dir/registry.db" "$modules" "$versions" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); m, v = int(sys.argv[2]), int(sys.argv[3])
rows = [("acme", f"mod{i:04d}", "aws", f"1.0.{j}", f"k/{i}/{j}.tar.gz", "0" * 64, 1, j, "token:scaling")
        for i in range(m) for j in range(v)]
db.executemany("INSERT INTO module_versions (namespace, name, system, version, key, sha256, size, published_at, published_by) VALUES (?,?,?,?,?,?,?,?,?)", rows)
db.executemany("INSERT INTO module_summaries (namespace, name, system, latest, latest_published_at, latest_published_by, latest_deprecated, version_count, updated_at, description, downloads) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    [("acme", f"mod{i:04d}", "aws", f"1.0.{v - 1}", v - 1, "token:scaling", 0, v, v - 1, "", 0) for i in range(m)])
# The search index a publish writes beside the summary (migration 10; absent in older binaries).
if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'module_summary_text'").fetchone():
    db.executemany("INSERT INTO module_search_ids (id, namespace, name, system) VALUES (?,?,?,?)", [(i + 1, "acme", f"mod{i:04d}", "aws") for i in range(m)])
    db.executemany("INSERT INTO module_summary_text (rowid, address, description) VALUES (?,?,?)", [(i + 1, f"acme/mod{i:04d}/aws", "") for i in range(m)])
db.commit()
PY
    port=$(free_port)
    TFREG_DATA_DIR="$dir" "$BIN" serve --port "$port" --log-level warning 2>"$dir.log" & pid=$!; pids+=($pid)
    for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
    local listed
    listed=$(curl -s -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/modules/acme?limit=100" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["modules"]))')
    [ "$listed" = "$modules" ] || { echo "scaling: expected $modules modules listed, got $listed" >&2; exit 1; }
    for req in "/v1/modules" "/v1/modules/acme" "/v1/modules/search?q=mod00"; do
      read -r rps p50 p99 _ <<< "$(THREADS=1 CONNS=4 DURATION=${SCALING_DURATION:-3s} run_wrk "http://127.0.0.1:$port$req" -H "Authorization: Bearer $tok")"
      printf '| %10s | %8s | %-26s | %10s | %8s | %8s |\n' "$((modules * versions))" "$modules" "$req" "$rps" "$p50" "$p99"
    done
    kill "$pid" 2>/dev/null || true
  done
  echo
  echo "Goal: p50 at 10 000 versions within 2× of at 100."
}

# --- Metrics (issue 21): the versions request with `--metrics-listen` on and off, two plain-HTTP
# instances on the same data directory, measured interleaved (off, on, off, on) in the same run; one
# scrape of /metrics at the end shows the counters saw the load. `BENCH_ONLY=metrics` runs only this.
metrics_rows() {
  local dir="$work/metrics" d=${METRICS_DURATION:-$DURATION}
  mkdir -p "$dir/mod"; printf 'output "x" {\n  value = 1\n}\n' > "$dir/mod/main.tf"
  local tok; tok=$(TFREG_DATA_DIR="$dir/data" "$BIN" grant create --init --namespace acme --new-token mbench --download --upload 2>/dev/null)
  local off_port on_port mport; off_port=$(free_port); on_port=$(free_port); mport=$(free_port)
  TFREG_DATA_DIR="$dir/data" "$BIN" serve --port "$off_port" --log-level warning 2>"$dir/off.log" & pids+=($!)
  TFREG_DATA_DIR="$dir/data" "$BIN" serve --port "$on_port" --metrics-listen "127.0.0.1:$mport" --log-level warning 2>"$dir/on.log" & pids+=($!)
  for p in $off_port $on_port; do for _ in $(seq 100); do curl -s "http://127.0.0.1:$p/health" >/dev/null && break; sleep 0.05; done; done
  tar -C "$dir/mod" -czf "$dir/mod.tar.gz" main.tf
  curl -s -X POST -H "Authorization: Bearer $tok" -H "Content-Type: application/gzip" --data-binary @"$dir/mod.tar.gz" \
    "http://127.0.0.1:$off_port/v1/modules/acme/vpc/aws/1.0.0/upload" >/dev/null
  local off1 on1 off2 on2 url=/v1/modules/acme/vpc/aws/versions
  off1=$(DURATION=$d run_wrk "http://127.0.0.1:$off_port$url" -H "Authorization: Bearer $tok")
  on1=$(DURATION=$d run_wrk "http://127.0.0.1:$on_port$url" -H "Authorization: Bearer $tok")
  off2=$(DURATION=$d run_wrk "http://127.0.0.1:$off_port$url" -H "Authorization: Bearer $tok")
  on2=$(DURATION=$d run_wrk "http://127.0.0.1:$on_port$url" -H "Authorization: Bearer $tok")
  local scraped; scraped=$(curl -s "http://127.0.0.1:$mport/metrics" | awk '/^tfreg_http_requests_total\{.*versions.*status="200"/ { s += $NF } END { printf "%d", s }')
  echo
  echo "## Metrics cost — serve on SQLite (HTTP), versions, wrk -t$THREADS -c$CONNS -d$d, off/on interleaved, same run"
  echo
  printf '| %-30s | %10s | %8s | %8s |\n' "metrics" "req/s" "p50 ms" "p99 ms"
  printf '|%s|%s|%s|%s|\n' "--------------------------------" "------------" "----------" "----------"
  local label r
  for label in "off (run 1):$off1" "on, --metrics-listen (run 1):$on1" "off (run 2):$off2" "on, --metrics-listen (run 2):$on2"; do
    r=${label#*:}; read -r rps p50 p99 _ <<< "$r"
    printf '| %-30s | %10s | %8s | %8s |\n' "${label%%:*}" "$rps" "$p50" "$p99"
  done
  read -r a _ <<< "$off1"; read -r b _ <<< "$on1"; read -r c _ <<< "$off2"; read -r e _ <<< "$on2"
  echo
  awk -v a="$a" -v b="$b" -v c="$c" -v e="$e" 'BEGIN { if (a+c>0) printf "metrics on / off: %.0f %% of the req/s\n", 100*(b+e)/(a+c) }'
  echo "/metrics counted $scraped versions requests answered 200 by the instance with metrics on."
}
# --- Documentation, search and web UI (issue 19): the detail API and the HTML index beside versions;
# search latency at 100 and 10 000 modules (written straight into the database: module, summary,
# precedence and README-words rows, as a publish leaves them); a publish of a 200-file module whose
# files are all .tf (documentation extracted from every one) beside the same files named .txt with a
# one-output main.tf (next to nothing to document: the same bytes to canonicalize and store). `BENCH_ONLY=docs` runs only this part.
docs_rows() {
  local dir="$work/docs" d=${DOCS_DURATION:-$DURATION} port pid tok
  mkdir -p "$dir/mod"; printf 'variable "x" {\n  type = string\n}\noutput "x" {\n  value = var.x\n}\n' > "$dir/mod/main.tf"
  printf '# VPC\n\nCreates a network.\n' > "$dir/mod/README.md"
  tok=$(TFREG_DATA_DIR="$dir/data" "$BIN" grant create --init --namespace acme --new-token dbench --download --upload 2>/dev/null)
  port=$(free_port)
  TFREG_DATA_DIR="$dir/data" "$BIN" serve --port "$port" --log-level warning 2>"$dir/serve.log" & pid=$!; pids+=($pid)
  for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
  tar -C "$dir/mod" -czf "$dir/mod.tar.gz" main.tf README.md
  curl -sf -X POST -H "Authorization: Bearer $tok" -H "Content-Type: application/gzip" --data-binary @"$dir/mod.tar.gz" \
    "http://127.0.0.1:$port/v1/modules/acme/vpc/aws/1.0.0/upload" >/dev/null
  # A browser session for GET /: the login form's nonce (cookie and hidden field), then the token.
  local nonce session
  nonce=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/login" | sed -n 's/^[Ss]et-[Cc]ookie: tfreg_login=\([^;]*\).*/\1/p' | tr -d '\r')
  session=$(curl -s -D - -o /dev/null -H "Cookie: tfreg_login=$nonce" -H "Content-Type: application/x-www-form-urlencoded" \
    --data-urlencode "csrf=$nonce" --data-urlencode "token=$tok" "http://127.0.0.1:$port/login" |
    sed -n 's/^[Ss]et-[Cc]ookie: tfreg_session=\([^;]*\).*/\1/p' | tr -d '\r')
  [ -n "$session" ] || { echo "docs: no web session" >&2; exit 1; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: tfreg_session=$session" "http://127.0.0.1:$port/")" = 200 ] || { echo "docs: GET / failed" >&2; exit 1; }
  local versions detail index
  versions=$(DURATION=$d run_wrk "http://127.0.0.1:$port/v1/modules/acme/vpc/aws/versions" -H "Authorization: Bearer $tok")
  detail=$(DURATION=$d run_wrk "http://127.0.0.1:$port/v1/modules/acme/vpc/aws" -H "Authorization: Bearer $tok")
  index=$(DURATION=$d run_wrk "http://127.0.0.1:$port/" -H "Cookie: tfreg_session=$session")
  echo
  echo "## Documentation and web UI — serve on SQLite (HTTP), wrk -t$THREADS -c$CONNS -d$d, same run"
  echo
  printf '| %-34s | %10s | %8s | %8s | %8s |\n' "request" "req/s" "p50 ms" "p99 ms" "non-2xx"
  printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "------------" "----------" "----------" "----------"
  local label r
  for label in "versions (JSON):$versions" "module detail (JSON):$detail" "GET / (HTML index):$index"; do
    r=${label#*:}; read -r rps p50 p99 bad <<< "$r"
    printf '| %-34s | %10s | %8s | %8s | %8s |\n' "${label%%:*}" "$rps" "$p50" "$p99" "$bad"
  done
  # Publish of 200 files: .tf (every file parsed for documentation) vs .txt (next to nothing).
  local kind n
  for kind in tf txt; do
    mkdir -p "$dir/big-$kind"
    for n in $(seq -w 1 200); do
      printf 'variable "v%s" {\n  type        = map(object({ a = string, b = optional(number, 1) }))\n  description = "Input %s."\n  default     = {}\n}\noutput "o%s" {\n  value = var.v%s\n}\n' "$n" "$n" "$n" "$n" > "$dir/big-$kind/f$n.$kind"
    done
  done
  # A module needs one .tf file: the .txt variant has a one-output main.tf beside its 200 files.
  printf 'output "x" {\n  value = 1\n}\n' > "$dir/big-txt/main.tf"
  local publish_ms=() ver=0
  for kind in tf txt; do
    (cd "$dir/big-$kind" && tar -czf "$dir/big-$kind.tar.gz" ./*)
    local runs=${DOCS_PUBLISH_RUNS:-5} i code ms total=0
    for i in $(seq "$runs"); do
      ver=$((ver + 1))
      read -r code ms <<< "$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X POST -H "Authorization: Bearer $tok" \
        -H "Content-Type: application/gzip" --data-binary @"$dir/big-$kind.tar.gz" \
        "http://127.0.0.1:$port/v1/modules/acme/big$kind/aws/1.0.$ver/upload")"
      [ "$code" = 201 ] || { echo "docs: publish of 200 .$kind files answered $code" >&2; exit 1; }
      total=$(awk -v t="$total" -v s="$ms" 'BEGIN { printf "%.1f", t + s * 1000 }')
    done
    publish_ms+=("$(awk -v t="$total" -v n="$runs" 'BEGIN { printf "%.1f", t / n }')")
  done
  echo
  printf '| %-38s | %10s |\n' "publish, 200 files (upload API, mean)" "ms"
  printf '|%s|%s|\n' "----------------------------------------" "------------"
  printf '| %-38s | %10s |\n' "200 .tf files (docs extracted)" "${publish_ms[0]}" "200 .txt + a one-output main.tf" "${publish_ms[1]}"
  kill "$pid" 2>/dev/null || true

  # Search latency with 100 and 10 000 modules in one namespace (rows written directly).
  echo
  echo "## Search latency — serve on SQLite, one namespace, wrk -t1 -c1 -d${SCALING_DURATION:-3s}"
  echo
  printf '| %-8s | %-34s | %10s | %8s | %8s |\n' "modules" "request" "req/s" "p50 ms" "p99 ms"
  printf '|%s|%s|%s|%s|%s|\n' "----------" "------------------------------------" "------------" "----------" "----------"
  local modules sdir stok req
  for modules in 100 10000; do
    sdir="$dir/search-$modules"
    stok=$(TFREG_DATA_DIR="$sdir" "$BIN" grant create --init --namespace acme --new-token sbench --download 2>/dev/null)
    python3 - "$sdir/registry.db" "$modules" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); m = int(sys.argv[2])
db.executemany("INSERT INTO module_versions (namespace, name, system, version, key, sha256, size, published_at, published_by, description) VALUES (?,?,?,?,?,?,?,?,?,?)",
    [("acme", f"mod{i:05d}", "aws", "1.0.0", f"k/{i}.tar.gz", "0" * 64, 1, 1, "token:sbench", f"Module {i} creates things") for i in range(m)])
db.executemany("INSERT INTO version_precedences (namespace, name, system, precedence) VALUES (?,?,?,?)",
    [("acme", f"mod{i:05d}", "aws", "1.0.0") for i in range(m)])
db.executemany("INSERT INTO module_summaries (namespace, name, system, latest, latest_published_at, latest_published_by, latest_deprecated, version_count, updated_at, description, downloads) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    [("acme", f"mod{i:05d}", "aws", "1.0.0", 1, "token:sbench", 0, 1, 1, f"Module {i} creates things", 0) for i in range(m)])
db.executemany("INSERT INTO module_readmes (rowid, namespace, name, system, words) VALUES (?,?,?,?,?)",
    [(i + 1, "acme", f"mod{i:05d}", "aws", f"network subnet zone{i % 50} word{i}") for i in range(m)])
# The search index a publish writes beside the summary (migration 10; absent in older binaries).
if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'module_summary_text'").fetchone():
    db.executemany("INSERT INTO module_search_ids (id, namespace, name, system) VALUES (?,?,?,?)", [(i + 1, "acme", f"mod{i:05d}", "aws") for i in range(m)])
    db.executemany("INSERT INTO module_summary_text (rowid, address, description) VALUES (?,?,?)",
        [(i + 1, f"acme/mod{i:05d}/aws", f"module {i} creates things") for i in range(m)])
db.commit()
PY
    port=$(free_port)
    TFREG_DATA_DIR="$sdir" "$BIN" serve --port "$port" --log-level warning 2>"$sdir.log" & pid=$!; pids+=($pid)
    for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
    for req in "/v1/modules/search?q=mod00042" "/v1/modules/search?q=zone7" "/v1/modules/search?q=network"; do
      [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $stok" "http://127.0.0.1:$port$req")" = 200 ] || { echo "docs: $req failed" >&2; exit 1; }
      # One connection: the latency of one search at a time (a debug build takes ~0.5 s at 10 000).
      read -r rps p50 p99 _ <<< "$(THREADS=1 CONNS=1 DURATION=${SCALING_DURATION:-3s} run_wrk "http://127.0.0.1:$port$req" --timeout 10s -H "Authorization: Bearer $stok")"
      printf '| %8s | %-34s | %10s | %8s | %8s |\n' "$modules" "$req" "$rps" "$p50" "$p99"
    done
    kill "$pid" 2>/dev/null || true
  done
}
# --- Providers (issue 20): a gpg-signed release for two platforms published through the CLI, then
# the provider versions document, a download (the signed-link document Terraform reads) and the
# network mirror's VERSION.json, beside module versions on the same HTTPS instance. `BENCH_ONLY=providers`.
provider_rows() {
  local dir="$work/providers" d=${PROVIDERS_DURATION:-$DURATION} port pid tok zip p
  mkdir -p "$dir/dist" "$dir/mod" && install -d -m 700 "$dir/gnupg"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout "$dir/key.pem" -out "$dir/cert.pem" \
    -subj "/CN=bench" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
  GNUPGHOME="$dir/gnupg" gpg --batch --passphrase '' --quick-gen-key "bench <bench@example.com>" ed25519 sign never 2>/dev/null
  GNUPGHOME="$dir/gnupg" gpg --armor --export bench@example.com > "$dir/key.asc"
  printf '#!/bin/sh\nexit 0\n' > "$dir/terraform-provider-demo_v1.0.0" && chmod 755 "$dir/terraform-provider-demo_v1.0.0"
  for p in linux_amd64 darwin_arm64; do
    zip="terraform-provider-demo_1.0.0_$p.zip"
    (cd "$dir" && zip -qX "dist/$zip" terraform-provider-demo_v1.0.0)
  done
  (cd "$dir/dist" && sha256sum ./*.zip | sed 's| \./| |' > terraform-provider-demo_1.0.0_SHA256SUMS)
  GNUPGHOME="$dir/gnupg" gpg --batch --yes --detach-sign --output "$dir/dist/terraform-provider-demo_1.0.0_SHA256SUMS.sig" \
    "$dir/dist/terraform-provider-demo_1.0.0_SHA256SUMS"
  tok=$(TFREG_DATA_DIR="$dir/data" "$BIN" grant create --init --namespace acme --new-token pbench -d -u -c 2>/dev/null)
  port=$(free_port)
  TFREG_DATA_DIR="$dir/data" "$BIN" serve --port "$port" --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --log-level warning \
    2>"$dir/serve.log" & pid=$!; pids+=($pid)
  for _ in $(seq 100); do curl -sk "https://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
  local cli=(env SSL_CERT_FILE="$dir/cert.pem" TFREG_TOKEN="$tok")
  "${cli[@]}" "$BIN" provider key add -n acme --armor "$dir/key.asc" --registry "127.0.0.1:$port" >/dev/null
  "${cli[@]}" "$BIN" provider publish "$dir/dist" --registry "127.0.0.1:$port" -n acme --type demo --version 1.0.0 >/dev/null
  printf 'output "x" {\n  value = 1\n}\n' > "$dir/mod/main.tf"
  "${cli[@]}" "$BIN" publish "$dir/mod" --registry "127.0.0.1:$port" -n acme --name vpc --system aws --module-version 1.0.0 >/dev/null
  local base="https://127.0.0.1:$port" label url r
  echo
  echo "## Providers — serve on SQLite (HTTPS), wrk -t$THREADS -c$CONNS -d$d, same run"
  echo
  printf '| %-40s | %10s | %8s | %8s | %8s |\n' "request" "req/s" "p50 ms" "p99 ms" "non-2xx"
  printf '|%s|%s|%s|%s|%s|\n' "------------------------------------------" "------------" "----------" "----------" "----------"
  for label in "module versions:/v1/modules/acme/vpc/aws/versions" "provider versions:/v1/providers/acme/demo/versions" \
    "provider download (linux_amd64):/v1/providers/acme/demo/1.0.0/download/linux/amd64" \
    "mirror VERSION.json:/v1/mirror/127.0.0.1:$port/acme/demo/1.0.0.json"; do
    url="$base${label#*:}"
    [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/cert.pem" -H "Authorization: Bearer $tok" "$url")" = 200 ] ||
      { echo "providers: ${label#*:} did not answer 200" >&2; exit 1; }
    r=$(DURATION=$d run_wrk "$url" -H "Authorization: Bearer $tok"); read -r rps p50 p99 bad <<< "$r"
    printf '| %-40s | %10s | %8s | %8s | %8s |\n' "${label%%:*}" "$rps" "$p50" "$p99" "$bad"
  done
  kill "$pid" 2>/dev/null || true
}
if [ "${BENCH_ONLY:-}" = providers ]; then provider_rows; exit 0; fi
# --- mirror pull (issue 20): a ~100 MB provider zip (random bytes, stored) published on one tfreg serve
# (the upstream), imported into another with `tfreg mirror pull`; the client's peak RSS (/usr/bin/time)
# must stay under 64 MiB (zips streamed to disk, hashed in chunks, never held in memory); the importing
# serve's VmHWM is shown beside it. `BENCH_ONLY=pull` runs only this part; PULL_MB sets the size.
pull_rows() {
  local dir="$work/pull" mb=${PULL_MB:-100} up_port reg_port admin puller t0 t1
  mkdir -p "$dir/rel" "$dir/gnupg"; chmod 700 "$dir/gnupg"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout "$dir/key.pem" -out "$dir/cert.pem" \
    -subj "/CN=bench" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
  GNUPGHOME="$dir/gnupg" gpg --batch --passphrase '' --quick-gen-key 'Bench <bench@example.com>' ed25519 sign never 2>/dev/null
  GNUPGHOME="$dir/gnupg" gpg --armor --export bench@example.com > "$dir/key.asc"
  python3 - "$dir/rel" "$mb" <<'PY'
import hashlib, os, sys, zipfile
d, mb = sys.argv[1], int(sys.argv[2])
name = "terraform-provider-demo_1.0.0_linux_amd64.zip"
info = zipfile.ZipInfo("terraform-provider-demo_v1.0.0", (2026, 1, 1, 0, 0, 0))
info.external_attr = 0o755 << 16
with zipfile.ZipFile(f"{d}/{name}", "w", zipfile.ZIP_STORED) as z:
    z.writestr(info, os.urandom(mb << 20))  # sizes in the local header (tfreg refuses data descriptors)
h = hashlib.sha256()
with open(f"{d}/{name}", "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
open(f"{d}/terraform-provider-demo_1.0.0_SHA256SUMS", "w").write(f"{h.hexdigest()}  {name}\n")
PY
  GNUPGHOME="$dir/gnupg" gpg --batch --yes --local-user bench@example.com --detach-sign \
    --output "$dir/rel/terraform-provider-demo_1.0.0_SHA256SUMS.sig" "$dir/rel/terraform-provider-demo_1.0.0_SHA256SUMS"
  GNUPGHOME="$dir/gnupg" gpgconf --kill all 2>/dev/null || true
  admin=$(TFREG_DATA_DIR="$dir/up" "$BIN" grant create --init --namespace acme --new-token padmin --download --upload --create-grant 2>/dev/null)
  puller=$(TFREG_DATA_DIR="$dir/reg" "$BIN" grant create --init --namespace mirror --new-token puller --download --upload 2>/dev/null)
  up_port=$(free_port); reg_port=$(free_port)
  TFREG_DATA_DIR="$dir/up" "$BIN" serve --port "$up_port" --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --log-level warning \
    2>"$dir/up.log" & pids+=($!)
  TFREG_DATA_DIR="$dir/reg" "$BIN" serve --port "$reg_port" --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --log-level warning \
    --public-url https://tfreg.test --mirror-allow upstream.test 2>"$dir/reg.log" & local reg_pid=$!; pids+=($reg_pid)
  for p in "$up_port" "$reg_port"; do
    for _ in $(seq 200); do curl -sk "https://127.0.0.1:$p/health" >/dev/null && break; sleep 0.05; done
  done
  export SSL_CERT_FILE="$dir/cert.pem"
  TFREG_TOKEN=$admin "$BIN" provider key add -n acme --armor "$dir/key.asc" --registry "127.0.0.1:$up_port" >/dev/null
  TFREG_TOKEN=$admin "$BIN" provider publish "$dir/rel" -n acme --type demo --version 1.0.0 --registry "127.0.0.1:$up_port" --quiet >/dev/null
  printf '%s' "$admin" > "$dir/upstream-token"
  t0=$(date +%s.%N)
  TFREG_TOKEN=$puller /usr/bin/time -v -o "$dir/time.txt" "$BIN" mirror pull upstream.test/acme/demo --version 1.0.0 \
    --platform linux_amd64 --registry "127.0.0.1:$reg_port" --upstream-url "https://127.0.0.1:$up_port" \
    --upstream-token-file "$dir/upstream-token" --quiet >/dev/null 2>"$dir/pull.err" || { cat "$dir/pull.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  local client_mib server_mib
  client_mib=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2/1024 }' "$dir/time.txt")
  server_mib=$(awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$reg_pid/status")
  echo
  echo "## mirror pull — one ${mb} MB zip between two tfreg serve (HTTPS, SQLite), verified both sides"
  echo
  echo "| what | figure |"
  echo "|---|---|"
  echo "| wall time of tfreg mirror pull | $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }') |"
  echo "| peak RSS of tfreg mirror pull (must stay < 64 MiB) | $client_mib MiB |"
  echo "| peak RSS (VmHWM) of the importing serve | $server_mib MiB |"
  awk -v m="$client_mib" 'BEGIN { exit !(m < 64) }' || { echo "mirror pull peak RSS $client_mib MiB is not under 64 MiB" >&2; exit 1; }
}
if [ "${BENCH_ONLY:-}" = pull ]; then pull_rows; exit 0; fi
if [ "${BENCH_ONLY:-}" = docs ]; then docs_rows; exit 0; fi
if [ "${BENCH_ONLY:-}" = metrics ]; then metrics_rows; exit 0; fi
if [ "${BENCH_ONLY:-}" = scaling ]; then scaling_rows; exit 0; fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" \
  -subj "/CN=bench" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null

# --- tfreg: one plain-HTTP and one HTTPS instance on the same data directory
export TFREG_DATA_DIR="$work/data"
token=$("$BIN" grant create --init --namespace acme --new-token bench --download --upload 2>/dev/null)
mkdir -p "$work/mod"
printf 'output "x" {\n  value = 1\n}\n' > "$work/mod/main.tf"
http_port=$(free_port)
"$BIN" serve --port "$http_port" --log-level warning 2>"$work/serve-http.log" & pids+=($!); tfreg_http_pid=$!
https_port=$(free_port)
"$BIN" serve --port "$https_port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log-level warning 2>"$work/serve-https.log" & pids+=($!); tfreg_https_pid=$!
for p in $http_port $https_port; do
  for _ in $(seq 100); do curl -sk "http$([ $p = $https_port ] && echo s)://127.0.0.1:$p/health" >/dev/null && break; sleep 0.05; done
done
for v in 1.0.0 1.1.0 1.2.0 2.0.0; do
  SSL_CERT_FILE="$work/cert.pem" TFREG_TOKEN="$token" "$BIN" publish "$work/mod" --registry "127.0.0.1:$https_port" -n acme --name vpc --system aws --module-version $v >/dev/null
done
versions_json=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$http_port/v1/modules/acme/vpc/aws/versions")

# --- nginx serving the same JSON as a static file, over HTTP and HTTPS
mkdir -p "$work/nginx/html/v1/modules/acme/vpc/aws" "$work/nginx/logs"
printf '%s' "$versions_json" > "$work/nginx/html/v1/modules/acme/vpc/aws/versions"
nginx_http=$(free_port); nginx_https=$(free_port)
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_http;
    listen 127.0.0.1:$nginx_https ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    root $work/nginx/html;
  }
}
CONF
chmod 755 "$work"; chmod -R a+rX "$work/nginx"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>"$work/nginx/stderr.log" & pids+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$nginx_http/v1/modules/acme/vpc/aws/versions" >/dev/null && break; sleep 0.05; done


auth=(-H "Authorization: Bearer $token")
declare -A R
R[nginx_http]=$(run_wrk "http://127.0.0.1:$nginx_http/v1/modules/acme/vpc/aws/versions")
R[tfreg_http_versions]=$(run_wrk "http://127.0.0.1:$http_port/v1/modules/acme/vpc/aws/versions" "${auth[@]}")
R[tfreg_http_download]=$(run_wrk "http://127.0.0.1:$http_port/v1/modules/acme/vpc/aws/1.2.0/download" "${auth[@]}")
R[nginx_https]=$(run_wrk "https://127.0.0.1:$nginx_https/v1/modules/acme/vpc/aws/versions")
R[tfreg_https_versions]=$(run_wrk "https://127.0.0.1:$https_port/v1/modules/acme/vpc/aws/versions" "${auth[@]}")
R[tfreg_https_download]=$(run_wrk "https://127.0.0.1:$https_port/v1/modules/acme/vpc/aws/1.2.0/download" "${auth[@]}")

rss() { awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$1/status"; }
rss_http=$(rss "$tfreg_http_pid"); rss_https=$(rss "$tfreg_https_pid")

echo
echo "## tfreg serve vs nginx (static file) — wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) cores, same run"
echo
printf '| %-34s | %10s | %8s | %8s | %8s | %11s |\n' "target" "req/s" "p50 ms" "p99 ms" "non-2xx" "vs nginx"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------" "------------" "----------" "----------" "----------" "-------------"
row() {
  local name=$1 key=$2 base=$3
  read -r rps p50 p99 bad <<< "${R[$key]}"
  read -r brps _ <<< "${R[$base]}"
  local ratio; ratio=$(awk -v a="$rps" -v b="$brps" 'BEGIN { if (b>0) printf "%.0f %%", 100*a/b; else print "n/a" }')
  printf '| %-34s | %10s | %8s | %8s | %8s | %11s |\n' "$name" "$rps" "$p50" "$p99" "$bad" "$ratio"
}
row "nginx static versions (HTTP)" nginx_http nginx_http
row "tfreg versions, authorized (HTTP)" tfreg_http_versions nginx_http
row "tfreg download, authorized (HTTP)" tfreg_http_download nginx_http
row "nginx static versions (HTTPS)" nginx_https nginx_https
row "tfreg versions, authorized (HTTPS)" tfreg_https_versions nginx_https
row "tfreg download, authorized (HTTPS)" tfreg_https_download nginx_https
echo
echo "tfreg peak RSS (VmHWM): HTTP instance ${rss_http} MiB, HTTPS instance ${rss_https} MiB (goal ≤ 64 MB)"
echo "Goal: tfreg versions ≥ 50 % of nginx's req/s."
scaling_rows
metrics_rows
docs_rows
provider_rows

# --- AWS calls per registry request: tfreg serve on DynamoDB + S3 (moto, signatures checked) behind
# the counting gateway the tests use (Tests/IntegrationTests/s3_gateway.py).
if ! command -v moto_server >/dev/null 2>&1; then
  echo; echo "(moto_server not installed: AWS call counts skipped; make test-deps installs it)"; exit 0
fi
start_moto "$work"
trap 'kill -9 $moto_pid 2>/dev/null || true; cleanup' EXIT
python3 "$(dirname "$0")/../Tests/IntegrationTests/s3_gateway.py" "http://127.0.0.1:$moto_port" "$akid" "$secret" > "$work/gateway.port" 2>/dev/null & pids+=($!)
for _ in $(seq 100); do [ -s "$work/gateway.port" ] && break; sleep 0.1; done
gateway="http://127.0.0.1:$(cat "$work/gateway.port")"
python3 - "http://127.0.0.1:$moto_port" "$akid" "$secret" <<'PY'
import boto3, sys
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
boto3.client("dynamodb", **kw).create_table(TableName="bench", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}])
boto3.client("s3", **kw).create_bucket(Bucket="bench-archives")
PY
aws_env=(env AWS_ACCESS_KEY_ID="$akid" AWS_SECRET_ACCESS_KEY="$secret" AWS_REGION=us-east-1 AWS_ENDPOINT_URL="$gateway"
  AWS_EC2_METADATA_DISABLED=true TABLE_NAME=bench TFREG_DATA_DIR="$work/aws-data")
aws_token=$("${aws_env[@]}" "$BIN" grant create -n acme --new-token bench -d -u 2>/dev/null)
outsider=$("${aws_env[@]}" "$BIN" grant create -n other --new-token outsider -d 2>/dev/null)
aws_port=$(free_port)
"${aws_env[@]}" "$BIN" serve --port "$aws_port" --storage s3://bench-archives/registry --log-level warning 2>"$work/serve-aws.log" & pids+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$aws_port/health" >/dev/null && break; sleep 0.05; done
SSL_CERT_FILE=/dev/null TFREG_TOKEN="$aws_token" "$BIN" publish "$work/mod" --registry "127.0.0.1:$aws_port" -n acme --name vpc --system aws --module-version 1.0.0 --dry-run --archive-file "$work/mod.tar.gz" >/dev/null
curl -s -o /dev/null -X POST -H "Authorization: Bearer $aws_token" -H "Content-Type: application/gzip" --data-binary "@$work/mod.tar.gz" \
  "http://127.0.0.1:$aws_port/v1/modules/acme/vpc/aws/1.0.0/upload"
N=50
calls() {  # calls LABEL TOKEN PATH → "label | calls per request | by operation"
  local label=$1 tok=$2 path=$3 code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "http://127.0.0.1:$aws_port$path")  # warm-up (token cache)
  curl -s -X DELETE "$gateway/__counts" >/dev/null
  for _ in $(seq $N); do curl -s -o /dev/null -H "Authorization: Bearer $tok" "http://127.0.0.1:$aws_port$path"; done
  curl -s "$gateway/__counts" | python3 -c '
import json, sys
c = json.load(sys.stdin); n = int(sys.argv[1])
total = sum(c.values())
ops = ", ".join(f"{k} {v/n:g}" for k, v in sorted(c.items())) or "none"
print(f"| {sys.argv[2]:<40} | {sys.argv[3]:>6} | {total/n:>14g} | {ops} |")' "$N" "$label" "$code"
}
echo
echo "## AWS calls per registry request — serve on DynamoDB + S3 (moto), $N requests each after one warm-up"
echo
echo "| request | status | AWS calls/req | by operation |"
echo "|------------------------------------------|--------|----------------|--------------|"
calls "discovery" "$aws_token" "/.well-known/terraform.json"
calls "versions, authorized" "$aws_token" "/v1/modules/acme/vpc/aws/versions"
calls "download, authorized (presigned S3 GET)" "$aws_token" "/v1/modules/acme/vpc/aws/1.0.0/download"
calls "versions, no grant in namespace" "$outsider" "/v1/modules/acme/vpc/aws/versions"
calls "list namespace" "$aws_token" "/v1/modules/acme"
calls "list all namespaces" "$aws_token" "/v1/modules"
calls "search" "$aws_token" "/v1/modules/search?q=vpc"
echo
echo "Goal: ≤ 2 AWS calls for an authorized versions or download request. A static token's first use"
echo "(and one use every 10 s after) adds one GetItem for the token lookup; presigning makes no call."

# --- IAM tokens: verification cost per request, and client wall times, on the same machine.
iam_port=$(free_port)
iam_env=(env TFREG_DATA_DIR="$work/iam-data" TFREG_AUDIENCE="127.0.0.1:$iam_port" AWS_ENDPOINT_URL_STS="http://127.0.0.1:$moto_port" AWS_EC2_METADATA_DISABLED=true)
iam_static=$("${iam_env[@]}" "$BIN" grant create --init -n acme --new-token bench -d -u 2>/dev/null)
"${iam_env[@]}" "$BIN" grant create -n acme -r arn:aws:iam::123456789012:user/bench -d 2>/dev/null
"${iam_env[@]}" "$BIN" serve --port "$iam_port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log-level warning 2>"$work/serve-iam.log" & pids+=($!)
for _ in $(seq 100); do curl -sk "https://127.0.0.1:$iam_port/health" >/dev/null && break; sleep 0.05; done
SSL_CERT_FILE="$work/cert.pem" TFREG_TOKEN="$iam_static" "$BIN" publish "$work/mod" --registry "127.0.0.1:$iam_port" -n acme --name vpc --system aws --module-version 1.0.0 >/dev/null
client_env=(env HOME="$work/client-home" SSL_CERT_FILE="$work/cert.pem" AWS_ACCESS_KEY_ID="$akid" AWS_SECRET_ACCESS_KEY="$secret" AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true)
mkdir -p "$work/client-home"
iam_token=$("${client_env[@]}" "$BIN" token -r "127.0.0.1:$iam_port" -T 3600 token)
ms_per_run() {  # ms_per_run N command… → average wall milliseconds
  local n=$1; shift
  local t0 t1; t0=$(date +%s%N)
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1; done
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.1f", (b-a)/n/1e6 }'
}
echo
echo "## IAM tokens — serve (SQLite, local token key) over HTTPS, same run"
echo
if command -v wrk >/dev/null 2>&1; then
  R[static]=$(run_wrk "https://127.0.0.1:$iam_port/v1/modules/acme/vpc/aws/versions" -H "Authorization: Bearer $iam_static")
  R[sealed]=$(run_wrk "https://127.0.0.1:$iam_port/v1/modules/acme/vpc/aws/versions" -H "Authorization: Bearer $iam_token")
  printf '| %-34s | %10s | %8s | %8s | %8s | %11s |\n' "target" "req/s" "p50 ms" "p99 ms" "non-2xx" "vs static"
  printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------" "------------" "----------" "----------" "----------" "-------------"
  row "versions, static token" static static
  row "versions, sealed IAM token" sealed static
  echo
fi
"${client_env[@]}" "$BIN" credential-helper get "127.0.0.1:$iam_port" >/dev/null   # fills the helper's token cache
echo "| client operation | wall ms per run |"
echo "|---|---|"
echo "| tfreg token (STS round trip via moto, new token) | $(ms_per_run 5 "${client_env[@]}" "$BIN" token -r "127.0.0.1:$iam_port" token) |"
echo "| terraform-credentials-tfreg get (warm token cache) | $(ms_per_run 20 "${client_env[@]}" "$BIN" credential-helper get "127.0.0.1:$iam_port") |"
echo "| python3 -c 'import boto3' (reference) | $(ms_per_run 5 python3 -c 'import boto3') |"
echo
echo "A sealed token is verified in memory (AES-GCM, no store or KMS call): compare its req/s with the static token's."

# issue 20: mirror pull of a 100 MB zip, peak RSS (also alone: BENCH_ONLY=pull).
pull_rows
