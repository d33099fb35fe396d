# The two commands of the README:
#   make run   - the app on http://127.0.0.1:3000 with an on-disk store in ./data
#   make test  - every check: fmt and clippy (both features), Rust unit + integration
#                tests, then Playwright in Chromium
#
# Builds go to a target directory outside the clone, so a fresh clone on a
# machine that built before reuses the compiled dependencies.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/authbridge/target
# Debug builds only: a release build of SurrealDB takes ~50 minutes on 2 cores.
SITE_ROOT := $(CURDIR)/target/site

.PHONY: run test tools tools-browser unit build e2e lint

run: tools
	cargo leptos watch

test: tools-browser lint unit build e2e

tools:
	./scripts/tools.sh

tools-browser:
	./scripts/tools.sh --browser

lint:
	cargo fmt --all -- --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --features hydrate --target wasm32-unknown-unknown --lib -- -D warnings

unit:
	cargo test --features ssr

build:
	cargo leptos build

e2e:
	cd end2end && AUTHBRIDGE_BIN="$(CARGO_TARGET_DIR)/debug/authbridge" LEPTOS_SITE_ROOT="$(SITE_ROOT)" npx playwright test
