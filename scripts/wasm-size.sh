#!/usr/bin/env bash
# Builds the browser bundle as `cargo leptos build --release` would (the
# `wasm-release` profile: opt-level z, LTO, one codegen unit, panic=abort),
# runs wasm-bindgen and wasm-opt with the flags of `wasm-opt-features` in
# Cargo.toml (the ones cargo-leptos uses), and prints the sizes the browser
# downloads: raw, gzip -9 and brotli. Manual; not part of `make test`.
#
# wasm-opt comes from npm's `binaryen` package, installed once into
# ~/.cache/authbridge/npm-tools (Debian's binaryen breaks hydration of
# release builds).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${CARGO_TARGET_DIR:-$HOME/.cache/authbridge/target}/front
TOOLS=$HOME/.cache/authbridge/npm-tools
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ]; then
    echo "==> installing wasm-opt (npm binaryen) into $TOOLS"
    mkdir -p "$TOOLS"
    (cd "$TOOLS" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund binaryen@132)
fi

echo "==> building the wasm-release bundle"
CARGO_TARGET_DIR="$TARGET" cargo build --lib --target wasm32-unknown-unknown \
    --profile wasm-release --no-default-features --features hydrate
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
    "$TARGET/wasm32-unknown-unknown/wasm-release/authbridge.wasm"
# The flags cargo-leptos passes, from `wasm-opt-features = ["-Oz", ...]`.
read -r -a WASM_OPT_FLAGS <<<"$(sed -n 's/^wasm-opt-features = \[\(.*\)\]$/\1/p' Cargo.toml | tr -d '",')"
if [ ${#WASM_OPT_FLAGS[@]} -eq 0 ]; then
    echo "no wasm-opt-features line in Cargo.toml" >&2
    exit 1
fi
echo "==> wasm-opt ${WASM_OPT_FLAGS[*]}"
"$TOOLS/node_modules/.bin/wasm-opt" "${WASM_OPT_FLAGS[@]}" \
    -o "$OUT/authbridge_opt.wasm" "$OUT/authbridge_bg.wasm"

size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
br() { python3 -c 'import sys, brotli; print(len(brotli.compress(open(sys.argv[1], "rb").read(), quality=11)))' "$1" 2>/dev/null || echo "n/a"; }

printf '%-28s %10s %10s %10s\n' file raw gzip-9 brotli-11
for f in authbridge_bg.wasm authbridge_opt.wasm authbridge.js; do
    printf '%-28s %10s %10s %10s\n' "$f" "$(size "$OUT/$f")" "$(gz "$OUT/$f")" "$(br "$OUT/$f")"
done
