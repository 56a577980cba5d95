#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bt-dr developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: audit_info
short_description: Readiness audit of a BeyondTrust RS/PRA fleet
version_added: "0.1.0"
description:
  - Runs bt-dr's readiness audit (what would go wrong if a site had to be recovered tonight)
    over the sites of an inventory, from the backup store and, with O(live), from what the
    appliances report now.
  - Returns the findings most severe first, counts by severity and a Markdown report.
  - Never changes anything. With O(fail_on), fails when a finding reaches that severity.
options:
  inventory:
    description:
      - The fleet inventory (TOML, JSON or YAML).
    type: path
    required: true
  sites:
    description:
      - Audit only these sites (default every site of the inventory).
    type: list
    elements: str
  store:
    description:
      - The backup store. Backup, certificate, record and Vault key rules need it.
    type: path
  live:
    description:
      - Ask every appliance for its state (health, roles, data sync, served certificate).
        Credentials come from the module options or each site's C(api) section.
    type: bool
    default: false
  upgrade_table:
    description:
      - Supported-upgrade table (TOML/JSON/YAML) for the restore checks.
    type: path
  max_backup_age_hours:
    description:
      - The newest backup set is stale when older than this (default the inventory's
        C(thresholds.max_backup_age_hours), 26 when it has none).
    type: int
  max_sync_age_hours:
    description:
      - A data sync older than this is stale (default from the inventory's C(thresholds), twice
        the pair's sync interval and at least an hour when it has none).
    type: int
  certificate_horizon_days:
    description:
      - Warn when a certificate expires within this many days (default the inventory's
        C(thresholds.certificate_horizon_days), 30 when it has none).
    type: int
  fail_on:
    description:
      - Fail when a finding is at least this severe. V(none) never fails.
    type: str
    choices: [none, info, warning, error, critical]
    default: none
extends_documentation_fragment:
  - bt_dr.sra.attributes
  - bt_dr.sra.auth
author:
  - bt-dr developers (@bt-dr)
"""

EXAMPLES = r"""
- name: Audit the fleet and fail on errors
  bt_dr.sra.audit_info:
    inventory: /etc/bt-dr/fleet.toml
    store: /srv/bt-dr/store
    live: true
    fail_on: error
  register: audit

- name: Save the report
  ansible.builtin.copy:
    content: "{{ audit.markdown }}"
    dest: /srv/bt-dr/audit.md
    mode: "0644"
"""

RETURN = r"""
findings:
  description: Findings, most severe first (C(site), C(id), C(severity), C(subject), C(message), C(remediation)).
  returned: always
  type: list
  elements: dict
summary:
  description: Counts by severity.
  returned: always
  type: dict
  sample: {"critical": 0, "error": 1, "warning": 2, "info": 0}
worst:
  description: Most severe finding, or null when the fleet is ready.
  returned: always
  type: str
report:
  description: The whole report (JSON schema C(bt-dr.audit/1)).
  returned: always
  type: dict
markdown:
  description: The report in Markdown, grouped by site.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bt_dr.sra.plugins.module_utils.common import (
    auth_argument_spec,
    bt_dr,
    client_for_appliance,
    close_all,
    fail_from,
    require_bt_dr,
)


def main():
    argument_spec = dict(
        inventory=dict(type="path", required=True),
        sites=dict(type="list", elements="str"),
        store=dict(type="path"),
        live=dict(type="bool", default=False),
        upgrade_table=dict(type="path"),
        max_backup_age_hours=dict(type="int"),
        max_sync_age_hours=dict(type="int"),
        certificate_horizon_days=dict(type="int"),
        fail_on=dict(type="str", choices=["none", "info", "warning", "error", "critical"], default="none"),
    )
    argument_spec.update(auth_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_bt_dr(module)
    p = module.params
    clients = []
    try:
        inv = bt_dr.load_inventory(p["inventory"])
        if p["sites"]:
            unknown = [s for s in p["sites"] if inv.site(s) is None]
            if unknown:
                module.fail_json(msg="not in the inventory: %s" % ", ".join(unknown), error=dict(kind="not_found"))
            inv = bt_dr.Inventory(sites=[s for s in inv.sites if s.name in p["sites"]], thresholds=inv.thresholds)
        live = []
        if p["live"]:
            for site in inv.sites:
                pairs = [(a.hostname, client_for_appliance(module, site, a.hostname)) for a in site.appliances]
                clients.extend(pair[1] for pair in pairs)
                live.append(bt_dr.collect_live(site, pairs))
        report = bt_dr.audit(
            inv,
            store=p["store"],
            live=live,
            upgrade_table=p["upgrade_table"],
            max_backup_age_hours=p["max_backup_age_hours"],
            max_sync_age_hours=p["max_sync_age_hours"],
            certificate_horizon_days=p["certificate_horizon_days"],
        )
        result = dict(
            changed=False,
            findings=[f.to_dict() for f in report.findings],
            summary=report.summary.to_dict(),
            worst=report.worst,
            report=report.to_dict(),
            markdown=report.to_markdown(),
        )
        failing = p["fail_on"] != "none" and report.worst is not None and bt_dr.severity_at_least(report.worst, p["fail_on"])
    except bt_dr.BtDrError as e:
        fail_from(module, e)
    finally:
        close_all(clients)
    if failing:
        module.fail_json(msg="the audit found %s findings (worst: %s)" % (len(report.findings), report.worst), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
