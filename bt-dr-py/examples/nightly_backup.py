"""Nightly job: a backup set for every site of an inventory, verified, then retention.

    python nightly_backup.py fleet.toml /srv/bt-dr/store

Each site needs an ``[sites.api]`` section; its secret is read from the environment variable
it names. Exits 1 when a site failed.
"""

import sys
from pathlib import Path
from typing import List

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
        clients.append(client)
        jobs.append((site, client, bt_dr.BackupSetOptions(recordings=True)))
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
        print(
            f"{outcome.site}: set {outcome.report.set_id} verified={check.ok} "
            f"files={check.files_checked} removed={removed}"
        )
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
