#!/usr/bin/env bash
# Generates COUNT PKCS#12 bundles for the certificate-audit benchmark with the openssl CLI:
# half RSA-2048, half EC P-256, each leaf (its own key, SAN = its site FQDN) signed by an
# intermediate of the same kind, exported with the chain (leaf + intermediate + root) using
# OpenSSL 3's defaults (PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, SHA-256 MAC, 2048 iterations).
# Idempotent: a complete set in DIR (manifest.tsv with COUNT lines) is kept as is.
#
#   P12PASS=... gen_bundles.sh DIR COUNT
set -euo pipefail
dir=${1:?usage: gen_bundles.sh DIR COUNT}
count=${2:?usage: gen_bundles.sh DIR COUNT}
: "${P12PASS:?set P12PASS}"
export P12PASS

if [[ -f "$dir/manifest.tsv" ]] && [[ $(wc -l <"$dir/manifest.tsv") -eq $count ]]; then
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/ca" "$dir/tmp"
ca=$dir/ca

mkca() { # kind
  local kind=$1 alg
  if [[ $kind == rsa ]]; then alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048); else alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256); fi
  local K=${kind^^}
  openssl genpkey "${alg[@]}" -out "$ca/$kind-root.key" 2>/dev/null
  openssl req -x509 -new -key "$ca/$kind-root.key" -subj "/O=bt-dr bench/CN=Bench $K Root" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$ca/$kind-root.pem"
  openssl genpkey "${alg[@]}" -out "$ca/$kind-int.key" 2>/dev/null
  openssl req -new -key "$ca/$kind-int.key" -subj "/O=bt-dr bench/CN=Bench $K Intermediate" -out "$ca/$kind-int.csr"
  printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$ca/int.ext"
  openssl x509 -req -in "$ca/$kind-int.csr" -CA "$ca/$kind-root.pem" -CAkey "$ca/$kind-root.key" \
    -set_serial 2 -days 3650 -extfile "$ca/int.ext" -out "$ca/$kind-int.pem" 2>/dev/null
  cat "$ca/$kind-int.pem" "$ca/$kind-root.pem" >"$ca/$kind-chain.pem"
}
mkca rsa
mkca ec

one() { # index
  local i=$1 kind name fqdn t alg
  if ((i % 2 == 0)); then kind=rsa; alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048); else kind=ec; alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256); fi
  name=$(printf 'b%04d' "$i")
  fqdn="site$i.example.com"
  t=$dir/tmp/$name
  openssl genpkey "${alg[@]}" -out "$t.key" 2>/dev/null
  openssl req -new -key "$t.key" -subj "/CN=$fqdn" -out "$t.csr"
  printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$fqdn" >"$t.ext"
  openssl x509 -req -in "$t.csr" -CA "$ca/$kind-int.pem" -CAkey "$ca/$kind-int.key" \
    -set_serial $((1000 + i)) -days 825 -extfile "$t.ext" -out "$t.pem" 2>/dev/null
  openssl pkcs12 -export -in "$t.pem" -inkey "$t.key" -certfile "$ca/$kind-chain.pem" -name "$fqdn" \
    -passout env:P12PASS -out "$dir/$name.p12"
  rm -f "$t.key" "$t.csr" "$t.ext" "$t.pem"
  printf '%s.p12\t%s\t%s\n' "$name" "$kind" "$fqdn" >"$t.line"
}
export -f one
export dir ca

seq 0 $((count - 1)) | xargs -P "$(nproc)" -I{} bash -c 'one {}'
# Record the protection OpenSSL chose (iterations, algorithms) once.
openssl pkcs12 -in "$dir/b0000.p12" -passin env:P12PASS -info -noout >"$dir/params.txt" 2>&1 || true
cat "$dir"/tmp/*.line | sort >"$dir/manifest.tsv.part"
rm -rf "$dir/tmp" "$ca"/*.key "$ca"/*.csr "$ca"/*.ext
mv "$dir/manifest.tsv.part" "$dir/manifest.tsv"
