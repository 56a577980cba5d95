"""Failover drill: the plan for a site's pair, without changing anything.

    python failover_drill.py fleet.toml support [planned|unplanned]
"""

import sys
from typing import List

import bt_dr


def main(argv: List[str]) -> int:
    inventory = bt_dr.load_inventory(argv[1])
    site = inventory.site(argv[2])
    if site is None:
        print(f"no site {argv[2]}")
        return 2
    mode = argv[3] if len(argv) > 3 else "planned"
    clients = bt_dr.Client.for_pair(site)
    try:
        plan = bt_dr.plan_failover(site, clients, mode)
    except bt_dr.Refused as e:
        print(f"refused: {e.message}")
        return 1
    finally:
        for c in clients.values():
            c.close()
    print(f"{plan.mode} failover of {plan.site}: {plan.from_.hostname} -> {plan.to.hostname}")
    print(f"certificates: {plan.certificates}; clients reach the site at {plan.site_url}")
    for n, step in enumerate(plan.steps, 1):
        print(f"{n}. [{step.step or '-'}] {'[bt-dr] ' if step.automated else ''}{step.action}")
    for w in plan.warnings:
        print(f"warning: {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
