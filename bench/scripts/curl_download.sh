#!/usr/bin/env bash
# The curl peer of the download benchmark: what a shell user would run. Takes a token, then
# streams the backup into OUT. AFTER says what follows the download:
#   0     nothing (the file may still be only in the page cache)
#   1     sha256sum of the file
#   sync  `sync OUT` (fsync of the file: on disk, as durable as bt-dr's download)
#
#   BT_DR_SECRET=... curl_download.sh BASE_URL CA_PEM CLIENT_ID OUT [AFTER]
set -euo pipefail
url=$1 ca=$2 id=$3 out=$4 after=${5:-0}
tok=$(curl -sS --fail --cacert "$ca" -u "$id:$BT_DR_SECRET" -d grant_type=client_credentials "$url/oauth2/token")
tok=$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' <<<"$tok")
curl -sS --fail --cacert "$ca" -H "Authorization: Bearer $tok" -o "$out" "$url/api/backup"
case $after in
  0) ;;
  1) sha256sum "$out" ;;
  sync) sync "$out" ;;
  *) echo "curl_download.sh: unknown AFTER $after" >&2; exit 2 ;;
esac
