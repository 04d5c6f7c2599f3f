#!/usr/bin/env bash
# Install test for the Debian package, as root on this machine: install, use, remove, purge,
# and check that nothing is left behind. systemd may not run here, so the unit's ExecStart is
# started directly with the shipped environment file, as the service user.
set -euo pipefail
deb=${1:?usage: test-install.sh build/tfreg_VERSION_ARCH.deb}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
fail() { echo "FAIL: $*" >&2; exit 1; }
passed=0
pass() { echo "ok: $*"; passed=$((passed + 1)); }

if dpkg -s tfreg >/dev/null 2>&1; then fail "tfreg is already installed on this machine; not touching it"; fi
before=$(mktemp); after=$(mktemp)
snapshot() { { find /usr/bin /usr/lib /etc /usr/share/man /usr/share/doc /usr/share/bash-completion /usr/share/zsh /usr/share/fish /var/lib -xdev 2>/dev/null || true; } | grep -v -E '^/var/lib/(dpkg|apt|man-db|systemd|ucf)|^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|^/etc/\.pwd\.lock$' | sort; }
snapshot > "$before"

dpkg -i "$deb" >/dev/null 2>&1 || { apt-get -f install -y -qq >/dev/null; dpkg -s tfreg >/dev/null 2>&1 || fail "dpkg -i"; }
pass "installed $(dpkg-query -W -f='${Package} ${Version}' tfreg)"

v=$(tfreg --version); [ -n "$v" ] || fail "tfreg --version"; pass "tfreg --version: $v"
man -P cat tfreg 2>/dev/null | grep -q "tfreg" || fail "man tfreg does not render"
man -P cat tfreg.serve 2>/dev/null | grep -q -- "--data-dir" || fail "man tfreg.serve does not render"
pass "man pages render"
[ -s /usr/share/bash-completion/completions/tfreg ] && [ -s /usr/share/zsh/vendor-completions/_tfreg ] && [ -s /usr/share/fish/vendor_completions.d/tfreg.fish ] || fail "completions"
pass "completions installed"

out=$(HOME=$(mktemp -d) /usr/lib/tfreg/terraform-credentials-tfreg get example.com)
[ "$out" = "{}" ] || fail "credentials helper get answered '$out'"
pass "terraform-credentials-tfreg get example.com -> $out"
manage-registry-permissions --help | grep -q "grant" || fail "manage-registry-permissions"
get-registry-token --help | grep -q "IAM" || fail "get-registry-token"
install-registry-credentials-helper --help | grep -q "credentials helper" || fail "install-registry-credentials-helper"
pass "multi-call names: manage-registry-permissions, get-registry-token, install-registry-credentials-helper"

getent passwd tfreg >/dev/null || fail "service user tfreg missing"
[ "$(getent passwd tfreg | cut -d: -f6,7)" = "/var/lib/tfreg:/usr/sbin/nologin" ] || fail "tfreg user: $(getent passwd tfreg)"
[ -f /usr/lib/sysusers.d/tfreg.conf ] && [ -f /usr/lib/systemd/system/tfreg.service ] || fail "sysusers.d file or unit not under /usr/lib"
[ -f /usr/share/doc/tfreg/README.md.gz ] && [ -f /usr/share/doc/tfreg/NEWS.md.gz ] && [ -f /usr/share/doc/tfreg/copyright ] || fail "docs in /usr/share/doc/tfreg"
[ "$(stat -c %U /var/lib/tfreg)" = tfreg ] || fail "/var/lib/tfreg not owned by tfreg"
[ "$(stat -c %a /etc/tfreg/tfreg.env)" = 640 ] || fail "/etc/tfreg/tfreg.env mode"
pass "service user (sysusers.d), state directory, unit under /usr/lib/systemd/system, docs"

# The unit's ExecStart, with the shipped environment file, as the service user.
exec_start=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/tfreg.service)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
runuser -u tfreg -- env -i PATH=/usr/bin:/bin bash -c "set -a; . /etc/tfreg/tfreg.env; set +a; /usr/bin/tfreg serve --check-config" >/dev/null \
  || fail "tfreg serve --check-config with the shipped environment"
# setpriv execs (runuser would stay in between and turn SIGTERM into its own exit 143).
setpriv --reuid=tfreg --regid=tfreg --init-groups env -i PATH=/usr/bin:/bin TFREG_PORT_OVERRIDE=$port bash -c \
  "set -a; . /etc/tfreg/tfreg.env; TFREG_PORT=\$TFREG_PORT_OVERRIDE; set +a; exec $exec_start" 2>/tmp/tfreg-install-test.log &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
health=$(curl -sf "http://127.0.0.1:$port/health") || { cat /tmp/tfreg-install-test.log; fail "/health"; }
pass "ExecStart ($exec_start) answers /health: $health"
# A grant through the installed CLI as the service user, with nothing in its environment: it reads
# /etc/tfreg/tfreg.env, so it uses the service's data dir and says so; then SIGTERM → exit 0.
as_tfreg() { if command -v sudo >/dev/null 2>&1; then sudo -u tfreg -- "$@"; else runuser -u tfreg -- "$@"; fi; }
err=$(cd / && as_tfreg env -i PATH=/usr/bin:/bin tfreg grant create -n acme --new-token ci -d 2>&1 >/dev/null) || { echo "$err"; fail "grant create as tfreg"; }
echo "$err" | grep -q "data dir /var/lib/tfreg (TFREG_DATA_DIR in /etc/tfreg/tfreg.env)" || { echo "$err"; fail "grant create as tfreg did not use the service's data dir"; }
pass "tfreg grant create as the tfreg user: the service's data dir from /etc/tfreg/tfreg.env"
if err=$(cd / && as_tfreg env -i PATH=/usr/bin:/bin tfreg grant list -n acme --data-dir /var/lib/tfreg-typo 2>&1); then fail "a mistyped --data-dir was accepted"; fi
echo "$err" | grep -q "no registry in data dir /var/lib/tfreg-typo" && [ ! -e /var/lib/tfreg-typo ] || { echo "$err"; fail "a mistyped --data-dir"; }
pass "a mistyped --data-dir is refused, nothing created"
kill -TERM "$pid"; wait "$pid" || fail "tfreg serve did not exit 0 on SIGTERM"
pass "SIGTERM: exit 0"
[ -f /var/lib/tfreg/registry.db ] || fail "state not in /var/lib/tfreg"

# Upgrade in place keeps data and configuration.
echo "# local change" >> /etc/tfreg/tfreg.env
dpkg -i "$deb" >/dev/null 2>&1 || fail "reinstall"
grep -q "# local change" /etc/tfreg/tfreg.env || fail "configuration lost on upgrade"
[ -f /var/lib/tfreg/registry.db ] || fail "data lost on upgrade"
pass "reinstall keeps configuration and data"

dpkg -r tfreg >/dev/null 2>&1 || fail "dpkg -r"
[ ! -e /usr/bin/tfreg ] && [ ! -e /usr/lib/tfreg ] && [ ! -e /usr/lib/systemd/system/tfreg.service ] && [ ! -e /usr/lib/sysusers.d/tfreg.conf ] || fail "dpkg -r left program files"
[ -f /etc/tfreg/tfreg.env ] && [ -d /var/lib/tfreg ] || fail "dpkg -r must keep configuration and state"
pass "dpkg -r removed the program, kept configuration and state"

dpkg -P tfreg >/dev/null 2>&1 || fail "dpkg -P"
# Debian keeps system users on purge (files they own may remain elsewhere): so does the package.
getent passwd tfreg >/dev/null || fail "purge removed the tfreg user"
getent group tfreg >/dev/null || fail "purge removed the tfreg group"
snapshot > "$after"
if ! diff -u "$before" "$after" > /tmp/tfreg-install-diff.txt; then cat /tmp/tfreg-install-diff.txt; fail "files left behind after purge"; fi
pass "dpkg -P left no files; the tfreg user and group stay"
echo "deb-install: $passed passed, 0 failed"
