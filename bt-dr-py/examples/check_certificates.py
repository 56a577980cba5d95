"""Checks p12 certificate bundles before they are imported, and that a pair matches.

    BT_DR_P12_PASSPHRASE=... python check_certificates.py support.example.com a.p12 [b.p12]

Exits 1 when a bundle is not usable or the two bundles differ.
"""

import os
import sys
from typing import List

import bt_dr


def main(argv: List[str]) -> int:
    fqdn, paths = argv[1], argv[2:]
    passphrase = os.environ["BT_DR_P12_PASSPHRASE"]
    reports = []
    ok = True
    for path in paths:
        try:
            report = bt_dr.check_certificate_bundle(path, passphrase, site_fqdn=fqdn)
        except bt_dr.WrongPassphrase:
            print(f"{path}: wrong passphrase")
            return 1
        leaf = report.leaf_cert
        print(f"{path}: {leaf.issued_to if leaf else '(no leaf)'} usable={report.usable}")
        for finding in report.findings:
            print(f"  {finding}")
        ok = ok and report.usable
        reports.append(report)
    if len(reports) == 2:
        pair = bt_dr.check_certificate_pair(reports[0], reports[1])
        print(f"pair identical={pair.identical}")
        ok = ok and pair.identical
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
