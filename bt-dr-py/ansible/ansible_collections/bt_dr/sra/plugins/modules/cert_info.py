#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bt-dr developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cert_info
short_description: Check a BeyondTrust appliance certificate bundle (p12), and a failover pair's bundles
version_added: "0.1.0"
description:
  - Opens a p12 bundle exported from C(/appliance) and reports its certificates, chain, key,
    names, expiry and key strength as findings.
  - With O(pair_path), also checks the two appliances of a failover pair carry the identical certificate.
  - Never changes anything.
options:
  path:
    description:
      - The p12 bundle (of the primary, when O(pair_path) is given).
    type: path
    required: true
  passphrase:
    description:
      - Its passphrase. Never logged or returned.
    type: str
    required: true
  site_fqdn:
    description:
      - The site's public FQDN, which the certificate must cover.
    type: str
  appliance_hostnames:
    description:
      - Appliance hostnames the certificate should also cover.
    type: list
    elements: str
    default: []
  expiry_horizon_days:
    description:
      - Warn when a certificate expires within this many days (default 30).
    type: int
  pair_path:
    description:
      - The backup appliance's p12 bundle, for the pair check.
    type: path
  pair_passphrase:
    description:
      - Passphrase of O(pair_path) (defaults to O(passphrase)). Never logged or returned.
    type: str
  fail_on_unusable:
    description:
      - Fail when the bundle has a finding at error level or above, or the pair differs.
    type: bool
    default: false
requirements:
  - python >= 3.9
  - bt_dr (the bt-dr Python package)
extends_documentation_fragment:
  - bt_dr.sra.attributes
author:
  - bt-dr developers (@bt-dr)
"""

EXAMPLES = r"""
- name: Check the certificate bundle before importing it
  bt_dr.sra.cert_info:
    path: /srv/bt-dr/inputs/support.p12
    passphrase: "{{ vault_p12_passphrase }}"
    site_fqdn: support.example.com
    appliance_hostnames: [bt-a.example.com, bt-b.example.com]
    fail_on_unusable: true

- name: Both appliances carry the same certificate
  bt_dr.sra.cert_info:
    path: /srv/bt-dr/inputs/bt-a.p12
    pair_path: /srv/bt-dr/inputs/bt-b.p12
    passphrase: "{{ vault_p12_passphrase }}"
  register: certs
"""

RETURN = r"""
usable:
  description: No finding at error level or above (and, with O(pair_path), identical certificates).
  returned: always
  type: bool
worst:
  description: Most severe finding (V(info), V(warning), V(error), V(critical)) or null.
  returned: always
  type: str
findings:
  description: Findings of the bundle check, most severe first (C(id), C(severity), C(subject), C(message), C(remediation)).
  returned: always
  type: list
  elements: dict
bundle:
  description: The full report (certificates with subjects, names, validity, SHA-256; chain; key).
  returned: always
  type: dict
pair:
  description: The pair check (C(identical), C(findings)).
  returned: when O(pair_path) is given
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bt_dr.sra.plugins.module_utils.common import (
    bt_dr,
    fail_from,
    require_bt_dr,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            passphrase=dict(type="str", required=True, no_log=True),
            site_fqdn=dict(type="str"),
            appliance_hostnames=dict(type="list", elements="str", default=[]),
            expiry_horizon_days=dict(type="int"),
            pair_path=dict(type="path"),
            pair_passphrase=dict(type="str", no_log=True),
            fail_on_unusable=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    require_bt_dr(module)
    p = module.params

    def check(path, passphrase):
        return bt_dr.check_certificate_bundle(
            path,
            passphrase,
            site_fqdn=p["site_fqdn"],
            appliance_hostnames=p["appliance_hostnames"],
            expiry_horizon_days=p["expiry_horizon_days"],
        )

    try:
        report = check(p["path"], p["passphrase"])
        result = dict(
            changed=False,
            usable=report.usable,
            worst=report.worst,
            findings=[f.to_dict() for f in report.findings],
            bundle=report.to_dict(),
        )
        if p["pair_path"]:
            other = check(p["pair_path"], p["pair_passphrase"] or p["passphrase"])
            pair = bt_dr.check_certificate_pair(report, other)
            result["pair"] = pair.to_dict()
            # The core's verdict for the pair: both bundles usable and identical leaves.
            result["usable"] = pair.usable
    except bt_dr.BtDrError as e:
        fail_from(module, e)
    if p["fail_on_unusable"] and not result["usable"]:
        module.fail_json(msg="the certificate bundle is not usable", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
