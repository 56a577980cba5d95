#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bt-dr developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: backup
short_description: Take a backup set of a BeyondTrust RS/PRA site
version_added: "0.1.0"
description:
  - Downloads the site backup (NSB) into a new backup set under O(store), with the certificate
    bundle, C(/appliance) records and the Vault key record, all described by a manifest with
    SHA-256 hashes. The set appears under its final name only when complete.
  - Reporting data since the last run (session recordings, Show My Screen, command shell and
    presentation recordings, session reports, exit surveys) goes to the store's per-site
    reporting archive, which retention never removes; the manifest's C(reporting) list names
    each file with its hash.
  - C(changed) is true only when a new set was written.
  - A set one of whose parts failed (recordings, certificate bundle, appliance records or Vault
    key, for example when the Reporting API answers 404) is kept with the NSB and every part
    that succeeded, and is marked partial in its manifest. The task then does not fail (the NSB
    was kept). It returns RV(partial=true) and RV(failed_parts), is C(changed), and warns naming
    each failed part and its error. Test RV(partial) to alert on it. A partial set never counts
    as the newest verified set retention protects.
  - In check mode the appliance is asked for its health and the API account's permissions, and
    nothing is downloaded or written.
options:
  store:
    description:
      - Backup store folder (one sub-folder per site).
    type: path
    required: true
  url:
    description:
      - Base URL of the appliance to back up from. Defaults to the inventory site's intended primary.
      - Required without O(inventory).
    type: str
  site_fqdn:
    description:
      - Public FQDN of the site, when no O(inventory) is given.
    type: str
  product:
    description:
      - Product of the site, when no O(inventory) is given.
    type: str
    choices: [rs, pra]
    default: rs
  site_version:
    description:
      - Installed version, when no O(inventory) is given. Defaults to what the appliance reports.
    type: str
  backup_password:
    description:
      - Site backup password, when backups are password protected. Never logged or returned.
    type: str
  recordings:
    description:
      - Take reporting data (recordings of every kind, session reports, exit surveys) since the
        last run.
    type: bool
    default: true
  reporting_kinds:
    description:
      - The reporting kinds to take, for example V(session_recording) or V(session_report).
        Default every kind the product has.
    type: list
    elements: str
  other_appliances:
    description:
      - Hostnames of other appliances of the inventory site (normally the backup appliance of a
        failover pair) to take an NSB from too; failover settings are not part of the data sync.
      - Needs O(inventory). The manifest's C(appliance_nsbs) says which NSB is whose.
    type: list
    elements: str
    default: []
  certificate_bundle:
    description:
      - The p12 certificate bundle exported from C(/appliance), kept with the set.
    type: path
  certificate_passphrase:
    description:
      - Passphrase of O(certificate_bundle). Never logged or returned.
    type: str
  appliance_records:
    description:
      - C(/appliance) settings records (TOML/JSON) to keep with the set.
    type: list
    elements: path
    default: []
  vault_key:
    description:
      - The downloaded Vault encryption key file.
    type: path
  vault_key_password_protected:
    description:
      - The Vault key was downloaded with a password (the vendor requires one).
    type: bool
    default: false
  verify:
    description:
      - Re-hash the new set against its manifest and fail when it does not match.
    type: bool
    default: true
extends_documentation_fragment:
  - bt_dr.sra.attributes
  - bt_dr.sra.auth
  - bt_dr.sra.auth.inventory
author:
  - bt-dr developers (@bt-dr)
"""

EXAMPLES = r"""
- name: Nightly backup set of the support site
  bt_dr.sra.backup:
    inventory: /etc/bt-dr/fleet.toml
    site: support
    store: /srv/bt-dr/store
    certificate_bundle: /srv/bt-dr/inputs/support.p12
    certificate_passphrase: "{{ vault_p12_passphrase }}"
    vault_key: /srv/bt-dr/inputs/vault.key
    vault_key_password_protected: true
  register: backup

- name: Backup set of a failover pair, with the backup appliance's NSB and only screen recordings
  bt_dr.sra.backup:
    inventory: /etc/bt-dr/fleet.toml
    site: support
    store: /srv/bt-dr/store
    other_appliances: [bt-b.example.com]
    reporting_kinds: [session_recording]

- name: Backup by URL without an inventory
  bt_dr.sra.backup:
    url: https://support.example.com
    site: support
    site_fqdn: support.example.com
    store: /srv/bt-dr/store
    client_id: "{{ bt_client_id }}"
    client_secret: "{{ bt_client_secret }}"
    recordings: false
"""

RETURN = r"""
set_id:
  description: Id (folder name) of the new set.
  returned: changed
  type: str
  sample: 20261121T020000Z
path:
  description: Folder of the new set.
  returned: changed
  type: str
manifest:
  description:
    - The set's manifest (files with sizes and hashes, NSB version, findings, what the NSB does
      not cover), the reporting archive files it took (C(reporting)) and, with
      O(other_appliances), every appliance's NSB (C(appliance_nsbs)).
  returned: changed
  type: dict
partial:
  description:
    - A part of the set failed; the set was kept with the NSB and every part that succeeded
      (see RV(failed_parts)). The task does not fail for it, but warns.
  returned: changed
  type: bool
  sample: false
failed_parts:
  description: The parts that failed, each with C(part), C(status) and its typed C(error) (C(kind), C(code), C(message), C(details)).
  returned: changed
  type: list
  elements: dict
  sample: [{"part": "recordings", "status": "failed", "error": {"kind": "not_found", "code": "not_found", "message": "...", "details": {}}}]
verify:
  description: Result of re-hashing the set.
  returned: changed and O(verify)
  type: dict
health:
  description: C(check_health) of the appliance (check mode).
  returned: check_mode
  type: dict
missing_permission:
  description: The API permission the account lacks for backups, if any (check mode).
  returned: check_mode
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bt_dr.sra.plugins.module_utils.common import (
    auth_argument_spec,
    bt_dr,
    client_for_appliance,
    client_for_url,
    close_all,
    fail_from,
    inventory_argument_spec,
    load_site,
    require_bt_dr,
)


def site_without_inventory(module, client):
    p = module.params
    version = p["site_version"] or client.check_health().version
    return bt_dr.Site.from_dict(
        dict(name=p["site"], fqdn=p["site_fqdn"], product=p["product"], version=version)
    )


def main():
    argument_spec = dict(
        store=dict(type="path", required=True),
        url=dict(type="str"),
        site_fqdn=dict(type="str"),
        product=dict(type="str", choices=["rs", "pra"], default="rs"),
        site_version=dict(type="str"),
        backup_password=dict(type="str", no_log=True),
        recordings=dict(type="bool", default=True),
        reporting_kinds=dict(type="list", elements="str"),
        other_appliances=dict(type="list", elements="str", default=[]),
        certificate_bundle=dict(type="path"),
        certificate_passphrase=dict(type="str", no_log=True),
        appliance_records=dict(type="list", elements="path", default=[]),
        vault_key=dict(type="path"),
        vault_key_password_protected=dict(type="bool", default=False, no_log=False),
        verify=dict(type="bool", default=True),
    )
    argument_spec.update(auth_argument_spec())
    argument_spec.update(inventory_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_one_of=[("inventory", "url")],
        required_by=dict(certificate_passphrase="certificate_bundle"),
        supports_check_mode=True,
    )
    require_bt_dr(module)
    p = module.params
    if not p["inventory"] and not (p["site"] and p["site_fqdn"]):
        module.fail_json(msg="without inventory, site and site_fqdn are required")
    client = None
    others = []
    try:
        site = load_site(module, required=False)
        if site is not None:
            if p["url"]:
                client = client_for_url(module, p["url"], site_name=site.name, product=site.product)
            else:
                primary = site.intended_primary()
                if primary is None:
                    module.fail_json(msg="site %s has no appliance to back up from" % site.name)
                client = client_for_appliance(module, site, primary.hostname)
        else:
            client = client_for_url(module, p["url"], site_name=p["site"], product=p["product"])
            site = site_without_inventory(module, client)
        if p["other_appliances"] and not p["inventory"]:
            module.fail_json(msg="other_appliances needs an inventory")
        for host in p["other_appliances"]:
            others.append(client_for_appliance(module, site, host))

        if module.check_mode:
            health = client.check_health()
            missing = client.get_api_info().missing_permission("download_backup")
            module.exit_json(
                changed=True,
                msg="would take a backup set of %s into %s" % (site.name, p["store"]),
                health=health.to_dict(),
                missing_permission=missing,
            )

        options = bt_dr.BackupSetOptions(
            backup_password=p["backup_password"],
            recordings=p["recordings"],
            reporting_kinds=None if p["reporting_kinds"] is None else tuple(p["reporting_kinds"]),
            certificate_bundle=p["certificate_bundle"],
            certificate_passphrase=p["certificate_passphrase"],
            appliance_records=tuple(p["appliance_records"] or ()),
            vault_key=p["vault_key"],
            vault_key_password_protected=p["vault_key_password_protected"],
        )
        report = bt_dr.run_backup_set(p["store"], site, client, options, other_appliances=others)
        result = dict(
            changed=True,
            set_id=report.set_id,
            path=os.fspath(report.path),
            manifest=report.manifest.to_dict(),
            partial=bool(report.partial),
            failed_parts=report.failed_parts,
        )
        for part in report.failed_parts:
            error = part.get("error") or {}
            module.warn(
                "partial backup set %s of %s: part %s failed (%s): %s; the NSB and every other part were kept"
                % (report.set_id, site.name, part.get("part"), error.get("kind"), error.get("message"))
            )
        if report.partial and not report.failed_parts:
            module.warn("partial backup set %s of %s; the NSB was kept" % (report.set_id, site.name))
        if p["verify"]:
            check = bt_dr.verify_backup_set(report.path)
            result["verify"] = check.to_dict()
            if not check.ok:
                module.fail_json(msg="the new backup set does not match its manifest", **result)
        module.exit_json(**result)
    except bt_dr.BtDrError as e:
        fail_from(module, e)
    finally:
        close_all(([client] if client is not None else []) + others)


if __name__ == "__main__":
    main()
