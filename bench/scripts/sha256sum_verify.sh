#!/bin/sh
# The peer of `bt-dr-bench verify`: `sha256sum -c` over the SHA256SUMS files the benchmark
# wrote from the sets' manifests (one per set, absolute paths).
#   sha256sum_verify.sh SUMS_DIR 1   one sha256sum process over every set
#   sha256sum_verify.sh SUMS_DIR N   xargs -P N, one sha256sum process per set
# Exit status 0 only when every file is present and matches.
set -eu
dir=$1
jobs=${2:-1}
if [ "$jobs" -le 1 ]; then
	exec sha256sum -c --quiet --strict "$dir"/*.sha256
fi
find "$dir" -name '*.sha256' -print0 | xargs -0 -P "$jobs" -n 1 sha256sum -c --quiet --strict
