#!/usr/bin/env bash
# Cargo shim for `napi build` (used through the CLI's documented `CARGO` override).
#
# @napi-rs/cli always passes `--target <triple>`, which makes cargo build the whole dependency
# graph a second time under target/<triple>/. For the host triple that copy is identical to
# target/debug, which `make test` (clippy, cargo test) has already built. This shim drops
# `--target <host>` so the addon is built in the shared target/debug, then puts the library where
# the CLI looks for it (target/<host>/debug/). Any other command or target passes through.
set -euo pipefail
real_cargo="${BT_DR_REAL_CARGO:-cargo}"
host="$(rustc -vV | sed -n 's/^host: //p')"
if [[ "${1:-}" != "build" ]]; then
  exec "$real_cargo" "$@"
fi
args=()
dropped=0
profile=debug
while (($#)); do
  case "$1" in
    --target)
      if [[ "${2:-}" == "$host" ]]; then dropped=1; shift 2; continue; fi ;;
    --release) profile=release ;;
  esac
  args+=("$1")
  shift
done
"$real_cargo" "${args[@]}"
if ((dropped)); then
  tdir="${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/target}"
  mkdir -p "$tdir/$host/$profile"
  for lib in "$tdir/$profile"/libbt_dr_node.so; do
    cp -f "$lib" "$tdir/$host/$profile/"
  done
fi
