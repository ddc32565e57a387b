# Postdesk: two commands for a newcomer on Debian.
#   make run   installs what is missing, builds, opens the settings window
#   make test  installs what is missing, starts the real test peers, runs every test
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/debug/postdesk

.PHONY: run test deps test-deps ui build bindings screenshots fuzz clean

run: deps build
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "postdesk: built $(BIN), but there is no display (DISPLAY/WAYLAND_DISPLAY unset) to open the window on."; \
	  echo "postdesk: run 'make run' from a desktop session, or use the command line: $(BIN) --help"; \
	  exit 2; fi
	$(BIN)

test: test-deps
	scripts/test.sh

deps:
	@scripts/install-deps.sh run

test-deps:
	@scripts/install-deps.sh test
	@command -v tauri-driver >/dev/null || { echo "postdesk: installing tauri-driver (crates.io)"; $(CARGO) install --quiet --locked tauri-driver --version '^2.1'; }
	@command -v cargo-fuzz >/dev/null || { echo "postdesk: installing cargo-fuzz (crates.io)"; $(CARGO) install --quiet --locked cargo-fuzz; }

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

ui: ui/node_modules/.package-lock.json
	cd ui && npm run --silent build

build: ui
	$(CARGO) build -p postdesk -p postdesk-cli

# Regenerates the TypeScript types the UI shares with the Rust core (ts-rs).
bindings:
	$(CARGO) test -q -p postdesk-core export_bindings
	$(CARGO) test -q -p postdesk export_bindings

# Fuzzes each target for FUZZ_SECONDS: import (the import path), message (what `send -t`
# reads of a message) and argv (sendmail's command line). make test runs each for 10 s.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := import message argv
fuzz: test-deps
	@cd fuzz && for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  mkdir -p corpus/$$t; \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run $$t --sanitizer none -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 corpus/$$t || exit 1; \
	done

# Copies the end-to-end test's screenshots to docs/ for the README.
screenshots:
	mkdir -p docs/screenshots && cp target/screenshots/{base,security,security-connection,support,test-mail-delivered,test-mail-failed,export-dialog,import-preview,templates,templates-error,templates-client,dne,test-mail-dne,clients,client-inherited,routes,explainer,preset-applied,receiver-validated,receiver-failed,m365-signed-in,m365-sign-in-refused,import-redirects,clients-keyboard,locked-field}.png docs/screenshots/

clean:
	$(CARGO) clean
	rm -rf ui/dist ui/node_modules

# Times one test mail through a local STARTTLS + AUTH server: Postdesk (release build) against
# msmtp and swaks (bench/README.md). Not part of `make test`; about 20 s once built.
.PHONY: bench
bench:
	@scripts/install-deps.sh test
	scripts/bench.sh
	scripts/bench-startup.sh

# Start-up and idle memory of the window against a bare Tauri app (benches/bare), under Xvfb.
.PHONY: bench-startup
bench-startup: ui
	scripts/bench-startup.sh

# The .deb (Tauri bundler) and the AppImage (scripts/appimage.sh), both with both programs:
# target/release/bundle/. make test-package installs the .deb here, opens it, removes it,
# then checks and opens the AppImage (root).
.PHONY: package test-package
package: deps ui
	@scripts/install-deps.sh build-package
	scripts/package.sh
test-package:
	@scripts/install-deps.sh package
	scripts/test-package.sh

# `check`, the window's form and its preview with 10,000 clients and 1,000 stored secrets
# (tests/keychain.rs keychain_scale_…), optimized build (profile bench-fast), in the keychain
# sandbox of scripts/test.sh. Target: under 2 s each. Not part of `make test` (a few minutes
# of build).
.PHONY: bench-keychain
bench-keychain: test-deps
	$(CARGO) build --profile bench-fast -p postdesk-cli
	POSTDESK_BENCH_BIN=$(CURDIR)/target/bench-fast/postdesk scripts/test.sh \
	  $(CARGO) test --profile bench-fast -p postdesk-tests --test keychain -- --ignored --nocapture keychain_scale
