# vectortd — build, run, test, install.
#
#   make run        start a development daemon in the foreground (state in ./.vectortd)
#   make test       build everything and run the test suite
#   make bench      release build, then bench/run.sh
#   make bench-instructions  callgrind instructions per call against a baseline commit
#   make install    install binaries, units, config, man pages, completions (DESTDIR, PREFIX)
#
# Works on a fresh Debian 12 with the Swift toolchain in /opt/swift: missing Debian packages are
# installed with apt-get (as root, or through sudo).

SHELL := /bin/bash
.DEFAULT_GOAL := build

SWIFT ?= swift
PYTHON ?= python3

# The toolchain is usually unpacked in /opt/swift without being put on PATH.
ifeq ($(shell command -v $(SWIFT) 2>/dev/null),)
ifneq ($(wildcard /opt/swift/usr/bin/swift),)
export PATH := /opt/swift/usr/bin:$(PATH)
endif
endif

# Extra flags: `make test BUILD_FLAGS=-v`, `make release RELEASE_FLAGS=--static-swift-stdlib`.
BUILD_FLAGS ?=
RELEASE_FLAGS ?=
TEST_BUILD_FLAGS ?= --quiet
TEST_FLAGS ?=
RUN_FLAGS ?=

DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release
GENERATED := .build/generated
DEV_DIR := $(CURDIR)/.vectortd

VERSION := $(shell sed -n 's/.*vectortVersion = "\(.*\)".*/\1/p' Sources/Protocol/Version.swift 2>/dev/null)

DEBIAN_PACKAGES := libsystemd-dev libsqlite3-dev pkg-config systemd util-linux passwd python3 python3-venv chromium unzip esbuild node-react node-react-dom
# What only the tests need: a private PostgreSQL server each test starts and stops
# (VectortTesting's PostgresServer; as root it runs as the package's `postgres` user).
TEST_PACKAGES := postgresql-15

# Python the tests run: a virtual environment with prometheus_client from PyPI, whose parser
# reads /metrics in the metrics tests.
TEST_PYTHON_ENV := .build/test-python
TEST_PYTHON := $(TEST_PYTHON_ENV)/bin/python3

# Installation layout. Units go to /lib/systemd/system for PREFIX=/usr (Debian's unit directory;
# /usr/lib/systemd/system is the same place on a merged-/usr system).
DESTDIR ?=
PREFIX ?= /usr
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
ifeq ($(PREFIX),/usr)
UNITDIR ?= /lib/systemd/system
else
UNITDIR ?= $(PREFIX)/lib/systemd/system
endif
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR ?= $(PREFIX)/share/man
BASH_COMPLETIONS_DIR ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONS_DIR ?= $(PREFIX)/share/zsh/vendor-completions
FISH_COMPLETIONS_DIR ?= $(PREFIX)/share/fish/vendor_completions.d

# $(call ensure-packages,PKG...): apt-get install the packages that are not installed yet;
# `apt-get update` runs only when something is missing.
define ensure-packages
@missing=""; \
if ! command -v dpkg-query >/dev/null; then \
    echo "make: not a Debian system; make sure these are installed: $(1)"; exit 0; \
fi; \
for package in $(1); do \
    dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$$missing $$package"; \
done; \
if [ -n "$$missing" ]; then \
    if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
    elif command -v sudo >/dev/null; then sudo="sudo"; \
    else echo "make: missing packages:$$missing; install them as root" >&2; exit 1; fi; \
    echo "make: installing$$missing"; \
    $$sudo apt-get update -qq \
        && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
fi
endef

.PHONY: help deps test-deps test-python swift build release run test bench bench-instructions man completions install uninstall clean distclean

help:
	@echo "targets: deps build release run test bench bench-instructions man completions install uninstall clean distclean"
	@echo "  make run       development daemon in the foreground (state in .vectortd/)"
	@echo "  make test      swift build --build-tests, then swift test"
	@echo "  make install   DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)"

deps: swift
	$(call ensure-packages,$(DEBIAN_PACKAGES))

swift:
	@command -v $(SWIFT) >/dev/null || { \
	    echo "make: no Swift toolchain: put it on PATH (export PATH=/opt/swift/usr/bin:\$$PATH)" >&2; exit 1; }

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

release: deps
	$(SWIFT) build -c release $(RELEASE_FLAGS)

# The socket is named explicitly so that a VECTORTD_SOCKET exported for another daemon does
# not move it.
run: build
	@mkdir -p "$(DEV_DIR)/state" "$(DEV_DIR)/run"
	@echo "vectortd is starting in the foreground (Ctrl-C stops it). In another shell:"
	@echo
	@echo "  export VECTORTD_SOCKET=$(DEV_DIR)/run/vectortd.sock"
	@echo "  $(CURDIR)/$(DEBUG_BIN)/vectortctl status"
	@echo
	@exec $(DEBUG_BIN)/vectortd \
	    --state-directory "$(DEV_DIR)/state" \
	    --runtime-directory "$(DEV_DIR)/run" \
	    --socket "$(DEV_DIR)/run/vectortd.sock" $(RUN_FLAGS)

test-python: deps
	@$(TEST_PYTHON) -c 'import prometheus_client' 2>/dev/null || { \
	    echo "make: installing prometheus_client (PyPI) in $(TEST_PYTHON_ENV)"; \
	    $(PYTHON) -m venv $(TEST_PYTHON_ENV) && $(TEST_PYTHON) -m pip install -q 'prometheus_client>=0.20'; }

test-deps: deps
	$(call ensure-packages,$(TEST_PACKAGES))

test: deps test-deps test-python
	@echo "== swift build --build-tests"
	$(SWIFT) build --build-tests $(TEST_BUILD_FLAGS) $(BUILD_FLAGS)
	@echo "== swift test"
	VECTORT_TEST_PYTHON=$(CURDIR)/$(TEST_PYTHON) $(SWIFT) test --skip-build $(TEST_FLAGS)

bench: release
	@test -x bench/run.sh || { echo "make: bench/run.sh is missing or not executable" >&2; exit 1; }
	bench/run.sh

bench-instructions: release
	$(call ensure-packages,valgrind)
	bench/instructions.sh $(BASE)

man: release
	$(call ensure-packages,python3)
	@mkdir -p $(GENERATED)/man
	$(RELEASE_BIN)/vectortd --experimental-dump-help > $(GENERATED)/vectortd.json
	$(RELEASE_BIN)/vectortctl --experimental-dump-help > $(GENERATED)/vectortctl.json
	$(PYTHON) tools/gen-manpage.py --source "vectort $(VERSION)" --extra man/vectortd.sections \
	    --see-also 'vectortctl(1)' --see-also 'systemd.service(5)' --see-also 'systemd-creds(1)' \
	    -o $(GENERATED)/man/vectortd.1 $(GENERATED)/vectortd.json
	$(PYTHON) tools/gen-manpage.py --source "vectort $(VERSION)" --extra man/vectortctl.sections \
	    --see-also 'vectortd(1)' --see-also 'journalctl(1)' \
	    -o $(GENERATED)/man/vectortctl.1 $(GENERATED)/vectortctl.json

completions: release
	@mkdir -p $(GENERATED)/completions
	$(RELEASE_BIN)/vectortctl --generate-completion-script bash > $(GENERATED)/completions/vectortctl.bash
	$(RELEASE_BIN)/vectortctl --generate-completion-script zsh > $(GENERATED)/completions/_vectortctl
	$(RELEASE_BIN)/vectortctl --generate-completion-script fish > $(GENERATED)/completions/vectortctl.fish

# Build as yourself first (`make release man completions`), then `sudo make install`.
install: release man completions
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(SYSUSERSDIR)" \
	    "$(DESTDIR)$(TMPFILESDIR)" "$(DESTDIR)$(SYSCONFDIR)/vectortd" "$(DESTDIR)$(MANDIR)/man1" \
	    "$(DESTDIR)$(BASH_COMPLETIONS_DIR)" "$(DESTDIR)$(ZSH_COMPLETIONS_DIR)" "$(DESTDIR)$(FISH_COMPLETIONS_DIR)"
	install -m 0755 $(RELEASE_BIN)/vectortd $(RELEASE_BIN)/vectortctl "$(DESTDIR)$(BINDIR)/"
	sed 's|/usr/bin/vectort|$(BINDIR)/vectort|g' systemd/vectortd.service > $(GENERATED)/vectortd.service
	install -m 0644 $(GENERATED)/vectortd.service systemd/vectortd.socket "$(DESTDIR)$(UNITDIR)/"
	install -m 0644 systemd/sysusers.d/vectortd.conf "$(DESTDIR)$(SYSUSERSDIR)/vectortd.conf"
	install -m 0644 systemd/tmpfiles.d/vectortd.conf "$(DESTDIR)$(TMPFILESDIR)/vectortd.conf"
	@if [ -e "$(DESTDIR)$(SYSCONFDIR)/vectortd/vectortd.yaml" ]; then \
	    echo "keeping the existing $(DESTDIR)$(SYSCONFDIR)/vectortd/vectortd.yaml"; \
	else \
	    echo "install -m 0644 etc/vectortd.yaml $(DESTDIR)$(SYSCONFDIR)/vectortd/vectortd.yaml"; \
	    install -m 0644 etc/vectortd.yaml "$(DESTDIR)$(SYSCONFDIR)/vectortd/vectortd.yaml"; \
	fi
	install -m 0644 $(GENERATED)/man/vectortd.1 $(GENERATED)/man/vectortctl.1 "$(DESTDIR)$(MANDIR)/man1/"
	install -m 0644 $(GENERATED)/completions/vectortctl.bash "$(DESTDIR)$(BASH_COMPLETIONS_DIR)/vectortctl"
	install -m 0644 $(GENERATED)/completions/_vectortctl "$(DESTDIR)$(ZSH_COMPLETIONS_DIR)/_vectortctl"
	install -m 0644 $(GENERATED)/completions/vectortctl.fish "$(DESTDIR)$(FISH_COMPLETIONS_DIR)/vectortctl.fish"
	@echo
	@echo "Next (see docs/operations.md):"
	@echo "  systemd-sysusers vectortd.conf && systemd-tmpfiles --create vectortd.conf"
	@echo "  systemctl daemon-reload && systemctl enable --now vectortd.socket vectortd.service"
	@echo "  usermod -aG vectortd-admin YOUR_USER   # then log in again"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/vectortd" "$(DESTDIR)$(BINDIR)/vectortctl" \
	    "$(DESTDIR)$(UNITDIR)/vectortd.service" "$(DESTDIR)$(UNITDIR)/vectortd.socket" \
	    "$(DESTDIR)$(SYSUSERSDIR)/vectortd.conf" "$(DESTDIR)$(TMPFILESDIR)/vectortd.conf" \
	    "$(DESTDIR)$(MANDIR)/man1/vectortd.1" "$(DESTDIR)$(MANDIR)/man1/vectortctl.1" \
	    "$(DESTDIR)$(BASH_COMPLETIONS_DIR)/vectortctl" "$(DESTDIR)$(ZSH_COMPLETIONS_DIR)/_vectortctl" \
	    "$(DESTDIR)$(FISH_COMPLETIONS_DIR)/vectortctl.fish"
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/vectortd/, /var/lib/vectortd and the vectortd user and groups"

clean:
	$(SWIFT) package clean
	rm -rf $(GENERATED)

distclean:
	rm -rf .build "$(DEV_DIR)"
