"""Nightly job: a backup set for every site of an inventory, verified, then retention.

    python nightly_backup.py fleet.toml /srv/bt-dr/store

Each site needs an ``[sites.api]`` section; its secret is read from the environment variable
it names. For a failover pair the set also takes the backup appliance's NSB (its failover
settings are not part of the data sync). Recordings, session reports and exit surveys go to
the store's per-site reporting archive, which retention never removes.

Exit status: 0 every site has a complete set; 1 a site failed (no set taken); 3 no site failed
but a set is partial (a part such as recordings, the certificate, the appliance records or the
vault key failed: the NSB and every part that succeeded were kept, each failed part and its
error are printed and recorded in the set's manifest). A partial set never counts as the
newest verified set retention protects.
"""

import sys
from pathlib import Path
from typing import List

EXIT_FAILED = 1
EXIT_PARTIAL = 3

import bt_dr


def main(argv: List[str]) -> int:
    inventory, store = bt_dr.load_inventory(argv[1]), Path(argv[2])
    jobs: List[bt_dr.BackupJob] = []
    clients: List[bt_dr.Client] = []
    for site in inventory.sites:
        primary = site.intended_primary()
        if site.api is None or primary is None:
            print(f"{site.name}: skipped (no [api] section or no appliance)")
            continue
        client = bt_dr.Client.for_appliance(site, primary.hostname)
        backup = site.intended_backup()
        others = [] if backup is None else [bt_dr.Client.for_appliance(site, backup.hostname)]
        clients += [client, *others]
        jobs.append((site, client, bt_dr.BackupSetOptions(recordings=True), others))
    try:
        report = bt_dr.run_backup_job(store, jobs, concurrency=4)
    finally:
        for c in clients:
            c.close()
    for outcome in report.sites:
        if outcome.report is None:
            error = outcome.error or {}
            print(f"{outcome.site}: FAILED ({error.get('kind')}): {error.get('message')}")
            continue
        check = bt_dr.verify_backup_set(outcome.report.path)
        plan = bt_dr.plan_retention(store, outcome.site, keep_daily=7, keep_weekly=4)
        removed = bt_dr.apply_retention(store, plan)
        manifest = outcome.report.manifest
        print(
            f"{outcome.site}: set {outcome.report.set_id} verified={check.ok} "
            f"files={check.files_checked} nsbs={len(manifest.appliance_nsbs) or 1} "
            f"reporting={len(manifest.reporting)} removed={removed}"
        )
        if outcome.partial:
            print(f"{outcome.site}: PARTIAL set {outcome.report.set_id}: the NSB was kept, but")
            for part in outcome.report.failed_parts:
                err = part.get("error") or {}
                print(f"{outcome.site}:   part {part.get('part')} FAILED ({err.get('kind')}): {err.get('message')}")
    if report.failed:
        return EXIT_FAILED
    if not report.all_complete:
        names = ", ".join(s.site for s in report.partial)
        print(f"partial sets (exit {EXIT_PARTIAL}): {names}")
        return EXIT_PARTIAL
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
