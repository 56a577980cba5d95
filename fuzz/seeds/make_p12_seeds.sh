#!/bin/sh
# Low-iteration PKCS#12 seeds for the `p12` fuzz target (OpenSSL 3 CLI). The fixtures in
# bt-dr-core/tests/fixtures/p12 use 2048 KDF/MAC iterations, which makes every fuzz run slow;
# these use 1 iteration, no MAC, or no encryption so the fuzzer reaches the certificate and
# key parsing quickly. Passphrase: fixture-pass (bt_dr_core::fuzzing::P12_PASSPHRASE).
# Usage: sh fuzz/seeds/make_p12_seeds.sh   (from the repository root)
set -eu
out=fuzz/corpus/p12
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pw=pass:fixture-pass
# Small keys: the seeds only need to parse, not to be strong.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" \
  -out "$tmp/ca.pem" -days 3650 -subj "/O=bt-dr fuzz/CN=bt-dr Fuzz Root" \
  -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/leaf.key" \
  -out "$tmp/leaf.csr" -subj "/CN=support.example.com" 2>/dev/null
printf 'subjectAltName=DNS:support.example.com,DNS:bt-a.example.com,IP:10.0.0.9\nbasicConstraints=critical,CA:FALSE\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/leaf.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 3650 -extfile "$tmp/ext" -out "$tmp/leaf.pem" 2>/dev/null
openssl req -x509 -newkey rsa:1024 -nodes -keyout "$tmp/rsa.key" -out "$tmp/rsa.pem" -days 10 \
  -subj "/CN=bt-a.example.com" 2>/dev/null
p12() { name=$1; shift; openssl pkcs12 -export -passout "$pw" -out "$out/$name.p12" "$@" 2>/dev/null; }
p12 iter1_chain -inkey "$tmp/leaf.key" -in "$tmp/leaf.pem" -certfile "$tmp/ca.pem" -name support.example.com -iter 1 -maciter
p12 nomac_plain -inkey "$tmp/leaf.key" -in "$tmp/leaf.pem" -certfile "$tmp/ca.pem" -nomac -certpbe NONE -keypbe NONE
p12 nomac_iter1 -inkey "$tmp/leaf.key" -in "$tmp/leaf.pem" -nomac -iter 1
p12 legacy_iter1 -inkey "$tmp/rsa.key" -in "$tmp/rsa.pem" -legacy -iter 1 -maciter
p12 nokey_plain -nokeys -in "$tmp/leaf.pem" -certfile "$tmp/ca.pem" -nomac -certpbe NONE
p12 rsa_plain -inkey "$tmp/rsa.key" -in "$tmp/rsa.pem" -nomac -certpbe NONE -keypbe NONE
# Every fixture of the test suite too (2048 iterations: slow, but real exports).
cp bt-dr-core/tests/fixtures/p12/*.p12 "$out/"
ls -l "$out"
