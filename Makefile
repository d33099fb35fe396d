# The two commands of the README:
#   make run   - the app on http://127.0.0.1:3000 with an on-disk store in ./data
#   make test  - every check: fmt and clippy (both features), Rust unit + integration
#                tests, the interop/ peers (pytest), then Playwright in Chromium
#
# Builds go to a target directory outside the clone, so a fresh clone on a
# machine that built before reuses the compiled dependencies.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/authbridge/target
# Debug builds only: a release build of SurrealDB takes ~50 minutes on 2 cores.
SITE_ROOT := $(CURDIR)/target/site
# The Python of interop/ (the peer services and their tests), outside the clone.
export AUTHBRIDGE_VENV ?= $(HOME)/.cache/authbridge/venv

.PHONY: run test tools tools-browser own-target unit build interop e2e lint

run: tools own-target
	cargo leptos watch

test: tools-browser own-target lint unit build interop e2e

# Cargo tells this crate's artifacts apart by name and file times, not by the
# checkout they came from: when another clone used the shared target directory
# last, drop this crate's artifacts (dependencies stay) so nothing stale runs.
# Two clones must not build into one target directory at the same time.
OWNER_FILE := $(CARGO_TARGET_DIR)/.authbridge-checkout
own-target:
	@if [ "$$(cat "$(OWNER_FILE)" 2>/dev/null)" != "$(CURDIR)" ]; then \
		echo "==> target dir last used by another checkout: rebuilding authbridge itself"; \
		cargo clean -p authbridge; \
		cargo clean -p authbridge --target-dir "$(CARGO_TARGET_DIR)/front" --target wasm32-unknown-unknown; \
		mkdir -p "$(CARGO_TARGET_DIR)" && echo "$(CURDIR)" > "$(OWNER_FILE)"; \
	fi

tools:
	./scripts/tools.sh

# What make test needs besides: Chromium, the npm packages, the interop/ virtualenv.
tools-browser:
	./scripts/tools.sh --browser --peers

lint:
	cargo fmt --all -- --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --features hydrate --target wasm32-unknown-unknown --lib -- -D warnings

unit:
	cargo test --features ssr --all-targets

build:
	cargo leptos build

# The peers of interop/ against the server binary that `build` made.
interop:
	AUTHBRIDGE_BIN="$(CARGO_TARGET_DIR)/debug/authbridge" LEPTOS_SITE_ROOT="$(SITE_ROOT)" "$(AUTHBRIDGE_VENV)/bin/python" -m pytest interop

e2e:
	cd end2end && AUTHBRIDGE_BIN="$(CARGO_TARGET_DIR)/debug/authbridge" LEPTOS_SITE_ROOT="$(SITE_ROOT)" npx playwright test
