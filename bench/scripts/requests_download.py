"""The requests peer of the download benchmark: a streaming download hashed with hashlib.

    BT_DR_SECRET=... python requests_download.py BASE_URL CA_PEM CLIENT_ID OUT [CHUNK_BYTES]

CHUNK_BYTES is the ``iter_content`` chunk size. The benchmark runs it with 64 KiB (the row the
Python target is set against), 8 KiB (``chunk_size=8192``, the default here, as in the usual
short recipe) and 1 MiB (a tuned script).
"""

import hashlib
import json
import os
import sys

import requests


def main() -> None:
    url, ca, client_id, out = sys.argv[1:5]
    chunk_size = int(sys.argv[5]) if len(sys.argv) > 5 else 8192
    with requests.Session() as s:
        r = s.post(
            url + "/oauth2/token",
            auth=(client_id, os.environ["BT_DR_SECRET"]),
            data={"grant_type": "client_credentials"},
            verify=ca,
        )
        r.raise_for_status()
        token = r.json()["access_token"]
        h = hashlib.sha256()
        n = 0
        with s.get(
            url + "/api/backup",
            headers={"Authorization": "Bearer " + token},
            stream=True,
            verify=ca,
        ) as r, open(out, "wb") as f:
            r.raise_for_status()
            for chunk in r.iter_content(chunk_size=chunk_size):
                f.write(chunk)
                h.update(chunk)
                n += len(chunk)
    print(json.dumps({"bytes": n, "sha256": h.hexdigest()}))


if __name__ == "__main__":
    main()
