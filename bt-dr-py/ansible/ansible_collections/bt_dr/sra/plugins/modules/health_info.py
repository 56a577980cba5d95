#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bt-dr developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: health_info
short_description: Health of the appliances of a BeyondTrust RS/PRA site
version_added: "0.1.0"
description:
  - Asks every appliance (both of a failover pair) for C(check_health), the unauthenticated
    C(/check_health) probe and C(get_appliances), concurrently.
  - An unreachable appliance is reported in the result, not as a module failure, unless
    O(fail_on_unhealthy) is set.
  - Never changes anything.
options:
  urls:
    description:
      - Appliance base URLs (C(https://host[:port])) to ask, when no O(inventory) is given.
    type: list
    elements: str
  fail_on_unhealthy:
    description:
      - Fail when an appliance is unreachable or reports itself unhealthy.
    type: bool
    default: false
extends_documentation_fragment:
  - bt_dr.sra.attributes
  - bt_dr.sra.auth
  - bt_dr.sra.auth.inventory
author:
  - bt-dr developers (@bt-dr)
"""

EXAMPLES = r"""
- name: Health of both appliances of a site from the fleet inventory
  bt_dr.sra.health_info:
    inventory: /etc/bt-dr/fleet.toml
    site: support
  register: health

- name: Health of appliances given by URL
  bt_dr.sra.health_info:
    urls:
      - https://bt-a.example.com
      - https://bt-b.example.com
    client_id: "{{ bt_client_id }}"
    client_secret: "{{ bt_client_secret }}"
    fail_on_unhealthy: true
"""

RETURN = r"""
appliances:
  description: One entry per appliance, in order.
  returned: always
  type: list
  elements: dict
  contains:
    hostname:
      description: Inventory hostname, or the URL when given by URL.
      type: str
    health:
      description: C(check_health) (version, failover role, last data sync), null when unreachable.
      type: dict
    error:
      description: Error details (C(kind), C(message)...) when the appliance did not answer.
      type: dict
    served_cert_sha256:
      description: SHA-256 of the certificate the appliance served.
      type: str
    appliances:
      description: The pair or cluster as this appliance sees it.
      type: list
      elements: dict
healthy:
  description: Every appliance answered and reports itself healthy.
  returned: always
  type: bool
roles:
  description: Failover role per appliance (null when unreachable).
  returned: always
  type: dict
  sample: {"bt-a.example.com": "primary", "bt-b.example.com": "backup"}
"""

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


def main():
    argument_spec = dict(
        urls=dict(type="list", elements="str"),
        fail_on_unhealthy=dict(type="bool", default=False),
    )
    argument_spec.update(auth_argument_spec())
    argument_spec.update(inventory_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_one_of=[("urls", "inventory")],
        mutually_exclusive=[("urls", "inventory")],
        required_together=[("inventory", "site")],
        supports_check_mode=True,
    )
    require_bt_dr(module)
    clients = []
    try:
        site = load_site(module, required=False)
        if site is not None:
            targets = [(a.hostname, client_for_appliance(module, site, a.hostname)) for a in site.appliances]
            name = site.name
        else:
            targets = [(u, client_for_url(module, u)) for u in module.params["urls"]]
            name = "appliances"
        clients = [t[1] for t in targets]
        live = bt_dr.collect_live(name, targets)
    except bt_dr.BtDrError as e:
        fail_from(module, e)
    finally:
        close_all(clients)
    appliances = [a.to_dict() for a in live.appliances]
    healthy = all(a.health is not None and a.health.success for a in live.appliances)
    roles = dict((a.hostname, a.health.failover_role if a.health else None) for a in live.appliances)
    result = dict(changed=False, appliances=appliances, healthy=healthy, roles=roles)
    if module.params["fail_on_unhealthy"] and not healthy:
        module.fail_json(msg="an appliance is unreachable or unhealthy", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
