#!/usr/bin/env bash
# The shell peer of the certificate audit: for every bundle listed in DIR/manifest.tsv, open it
# with `openssl pkcs12` (MAC check, decrypt certificates and key) and check the chain with
# `openssl verify` (the bundle's own root as trust anchor, its intermediate as untrusted).
# With JOBS > 1 the list is shared out to JOBS loops running side by side (xargs -P).
# Prints one line per failure and `ok=N total=M` at the end.
#
#   P12PASS=... openssl_loop.sh DIR [JOBS]
set -uo pipefail
dir=${1:?usage: openssl_loop.sh DIR [JOBS]}
jobs=${2:-1}
: "${P12PASS:?set P12PASS}"
export P12PASS

# check FILE... : the loop itself; prints "ok" per good bundle.
check() {
  local tmp f
  tmp=$(mktemp -d)
  for f in "$@"; do
    if ! openssl pkcs12 -in "$f" -passin env:P12PASS -nodes -out "$tmp/all.pem" 2>/dev/null; then
      echo "FAIL pkcs12 $f"
      continue
    fi
    # all.pem holds the leaf first, then the chain, then the key: verify checks the first
    # certificate against the chain found in the same file.
    if openssl verify -CAfile "$tmp/all.pem" -untrusted "$tmp/all.pem" "$tmp/all.pem" >/dev/null 2>&1; then
      echo ok
    else
      echo "FAIL verify $f"
    fi
  done
  rm -rf "$tmp"
}
export -f check

files=()
while IFS=$'\t' read -r file _kind _fqdn; do
  files+=("$dir/$file")
done <"$dir/manifest.tsv"
total=${#files[@]}

if ((jobs > 1)); then
  per=$(((total + jobs - 1) / jobs))
  out=$(printf '%s\n' "${files[@]}" | xargs -d '\n' -P "$jobs" -n "$per" bash -c 'check "$@"' _)
else
  out=$(check "${files[@]}")
fi
grep -v '^ok$' <<<"$out" || true
ok=$(grep -c '^ok$' <<<"$out")
echo "ok=$ok total=$total"
[[ $ok -eq $total ]]
