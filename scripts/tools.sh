#!/usr/bin/env bash
# Installs what building and testing authbridge needs, and only what is missing:
# the wasm target, cargo-leptos, wasm-bindgen-cli (at the version in Cargo.lock);
# with --browser Debian's Chromium (for the Playwright tests) and the npm packages
# of end2end/; with --peers the Python virtualenv of interop/ (the peer services
# and their tests) at $AUTHBRIDGE_VENV.
# Safe to run again: each step checks first, so a prepared machine takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=""
want_peers=""
for flag in "$@"; do
  case "$flag" in
    --browser) want_browser=1 ;;
    --peers) want_peers=1 ;;
    *) echo "usage: $0 [--browser] [--peers]" >&2; exit 2 ;;
  esac
done
CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)

step() { printf '==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (once per machine, about 15-20 minutes)"
  # --ignore-rust-version: a dependency declares a newer rustc than this toolchain;
  # no_downloads: cargo-leptos must not fetch tools from outside the registries.
  cargo install cargo-leptos --locked --ignore-rust-version --version "$CARGO_LEPTOS_VERSION" --features no_downloads
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (must equal the wasm-bindgen crate)"
  # Not --locked: its lock file names a yanked crate version.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ -n "$want_browser" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    step "installing Debian's chromium"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    step "installing the end2end npm packages (Playwright uses Debian's chromium, never its own download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi

if [ -n "$want_peers" ]; then
  # Outside the clone, like the build output; rebuilt from scratch whenever
  # requirements.txt (or the Python it runs on) changes, recorded in a stamp.
  venv=${AUTHBRIDGE_VENV:-$HOME/.cache/authbridge/venv}
  python=${AUTHBRIDGE_PYTHON:-python3}
  # Debian ships venv (with ensurepip) as a package of its own.
  if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    step "installing Debian's python3-venv"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv
  fi
  want=$( { "$python" --version; cat interop/requirements.txt; } | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    step "installing the interop/ Python packages into $venv"
    "$python" -m venv --clear "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r interop/requirements.txt
    "$venv/bin/python" -m pip check --disable-pip-version-check
    echo "$want" > "$venv/.requirements.sha256"
  fi
fi
