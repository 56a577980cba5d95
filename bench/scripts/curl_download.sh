#!/usr/bin/env bash
# The curl peer of the download benchmark: what a shell user would run. Takes a token, then
# streams the backup into OUT; with HASH=1 also runs sha256sum on the file.
#
#   BT_DR_SECRET=... curl_download.sh BASE_URL CA_PEM CLIENT_ID OUT HASH
set -euo pipefail
url=$1 ca=$2 id=$3 out=$4 hash=${5:-0}
tok=$(curl -sS --fail --cacert "$ca" -u "$id:$BT_DR_SECRET" -d grant_type=client_credentials "$url/oauth2/token")
tok=$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' <<<"$tok")
curl -sS --fail --cacert "$ca" -H "Authorization: Bearer $tok" -o "$out" "$url/api/backup"
if [[ $hash == 1 ]]; then
  sha256sum "$out"
fi
