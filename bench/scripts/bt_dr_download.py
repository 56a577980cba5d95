"""The bt_dr (Python package) row of the download benchmark.

    BT_DR_SECRET=... python bt_dr_download.py BASE_URL CA_PEM CLIENT_ID DIR
"""

import json
import os
import sys

import bt_dr


def main() -> None:
    url, ca, client_id, out_dir = sys.argv[1:5]
    with bt_dr.Client(
        url, client_id, os.environ["BT_DR_SECRET"], ca_file=ca, only_extra_ca=True
    ) as c:
        d = c.download_backup(out_dir)
    print(json.dumps({"bytes": d.file.size, "sha256": d.file.sha256}))


if __name__ == "__main__":
    main()
