#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bt-dr developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: failover
short_description: Planned or unplanned failover of a BeyondTrust RS/PRA failover pair
version_added: "0.1.0"
description:
  - Plans the failover from what both appliances report now, refusing unsafe moves (an unplanned
    failover while the primary is healthy or while its state is unknown, promoting an
    unreachable appliance, split brain).
  - Only a network-level failure (refused, reset, time-out) makes the old primary unreachable.
    An answer bt-dr cannot use (TLS, certificate pin, authentication, permission, rate limit,
    parse or API error) makes its state unknown - it may be up and serving - and an unplanned
    failover is then refused unless O(force_unknown=true).
  - Execution plans afresh and acts on that plan only. bt-dr never demotes the old primary by
    itself unless O(demote_old_primary=true); otherwise a still-primary old primary gives the
    outcome V(split_brain) with the demotion as a follow-up step (and the task fails).
  - Execution follows the guide's order. First the traffic redirect - for a DNS or NAT swing the
    O(redirect_command) when given (then the site URL must answer as the new primary, or the
    failover stops with outcome V(redirect_failed) or V(redirect_mismatch) and no role changed),
    otherwise a follow-up step. Then the role change, once (never retried blindly), and polling
    until both appliances agree. Then confirmation that clients work on the new primary
    (RV(confirmation)). Returns the timeline and the manual follow-up.
  - A planned failover between appliances that serve different certificates is refused unless
    O(force_certificate_mismatch=true).
  - In check mode only the plan is returned; nothing is changed.
  - With O(primary), nothing happens when that appliance is already primary (idempotent).
options:
  mode:
    description:
      - V(planned) swaps roles with a final data sync (both appliances up);
        V(unplanned) promotes the backup when the primary is lost.
    type: str
    choices: [planned, unplanned]
    default: planned
  primary:
    description:
      - Hostname of the appliance that should be primary afterwards. When it already is, the
        module reports no change.
    type: str
  settle_timeout:
    description:
      - Seconds to wait for the roles to settle.
    type: int
    default: 180
  poll_interval:
    description:
      - Seconds between two looks at the roles.
    type: float
    default: 0.5
  force_unknown:
    description:
      - Go ahead with an unplanned failover although the old primary's state is unknown (it
        answered, but with a TLS, pin, authentication, permission, rate-limit, parse or API
        error). Only when you have confirmed by other means that it is down or no longer
        serving; otherwise the site ends up with two primaries.
    type: bool
    default: false
  demote_old_primary:
    description:
      - After an unplanned promotion, if the old primary still claims primary, demote it with
        C(set_failover_role(backup, force=1)).
      - When false, nothing is demoted by bt-dr; the outcome is then V(split_brain) and the
        demotion is left as a follow-up step.
    type: bool
    default: false
  force_certificate_mismatch:
    description:
      - Go ahead with a planned failover although the two appliances serve different
        certificates; clients that validate the primary's certificate may reject the new one.
    type: bool
    default: false
  redirect_command:
    description:
      - The command (argv, no shell) that points the site's DNS record or NAT rule at the new
        primary. It gets C(BT_DR_SITE), C(BT_DR_FQDN), C(BT_DR_FROM), C(BT_DR_TO),
        C(BT_DR_TO_IP), C(BT_DR_ROUTING), C(BT_DR_MODE) and C(BT_DR_SITE_URL) in its
        environment; exit status 0 is success.
    type: list
    elements: str
  redirect_timeout:
    description:
      - Seconds the O(redirect_command) may run before it is killed (default bt-dr's).
    type: float
  site_url:
    description:
      - How clients reach the site, for the redirect check and the confirmation (default
        C(https://<site fqdn>)).
    type: str
  redirect_verify_timeout:
    description:
      - Seconds to keep checking that O(site_url) answers as the new primary after the
        redirect command (default bt-dr's).
    type: float
  confirm_timeout:
    description:
      - Seconds to wait after the role change for connected clients on the new primary and a
        healthy O(site_url) (default bt-dr's).
    type: float
extends_documentation_fragment:
  - bt_dr.sra.attributes
  - bt_dr.sra.auth
  - bt_dr.sra.auth.inventory
author:
  - bt-dr developers (@bt-dr)
"""

EXAMPLES = r"""
- name: Show the failover plan (drill, no change)
  bt_dr.sra.failover:
    inventory: /etc/bt-dr/fleet.toml
    site: support
  check_mode: true
  register: plan

- name: Planned failover so that bt-b becomes primary
  bt_dr.sra.failover:
    inventory: /etc/bt-dr/fleet.toml
    site: support
    mode: planned
    primary: bt-b.example.com
  register: timeline

- name: Unplanned failover with a DNS swing script
  bt_dr.sra.failover:
    inventory: /etc/bt-dr/fleet.toml
    site: support
    mode: unplanned
    redirect_command: [/usr/local/bin/swing-dns, --zone, example.com]
    confirm_timeout: 300
"""

RETURN = r"""
plan:
  description: The plan (current and future primary, connected clients, steps, warnings).
  returned: when a failover is needed
  type: dict
timeline:
  description: What execution did (events with elapsed milliseconds and roles, outcome, follow-up).
  returned: changed and not check mode
  type: dict
outcome:
  description: V(settled), V(timed_out), V(split_brain), V(redirect_failed) or V(redirect_mismatch).
  returned: changed and not check mode
  type: str
follow_up:
  description: Steps left to a person (traffic swing, demotion).
  returned: changed and not check mode
  type: list
  elements: str
redirect:
  description: What happened to the traffic redirect (C(method), C(ran), C(verified), C(answered_by), C(error)).
  returned: changed and not check mode
  type: dict
confirmation:
  description: Whether clients work on the new primary (C(connected_clients), C(site_healthy), C(confirmed)...), after a settled role change.
  returned: changed and not check mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.bt_dr.sra.plugins.module_utils.common import (
    auth_argument_spec,
    bt_dr,
    client_for_appliance,
    close_all,
    fail_from,
    inventory_argument_spec,
    load_site,
    require_bt_dr,
)


def main():
    argument_spec = dict(
        mode=dict(type="str", choices=["planned", "unplanned"], default="planned"),
        primary=dict(type="str"),
        settle_timeout=dict(type="int", default=180),
        poll_interval=dict(type="float", default=0.5),
        force_unknown=dict(type="bool", default=False),
        demote_old_primary=dict(type="bool", default=False),
        force_certificate_mismatch=dict(type="bool", default=False),
        redirect_command=dict(type="list", elements="str"),
        redirect_timeout=dict(type="float"),
        site_url=dict(type="str"),
        redirect_verify_timeout=dict(type="float"),
        confirm_timeout=dict(type="float"),
    )
    argument_spec.update(auth_argument_spec())
    argument_spec.update(inventory_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_together=[("inventory", "site")],
        supports_check_mode=True,
    )
    require_bt_dr(module)
    p = module.params
    clients = {}
    try:
        site = load_site(module)
        pair = [a for a in (site.intended_primary(), site.intended_backup()) if a is not None]
        if len(pair) != 2:
            module.fail_json(msg="site %s has no failover pair" % site.name)
        clients = dict((a.hostname, client_for_appliance(module, site, a.hostname)) for a in pair)
        if p["primary"] and site.appliance(p["primary"]) is None:
            module.fail_json(msg="%s is not an appliance of site %s" % (p["primary"], site.name))
        if p["primary"]:
            health = clients[site.appliance(p["primary"]).hostname].check_health()
            if health.failover_role == "primary":
                module.exit_json(changed=False, msg="%s is already primary" % p["primary"])
        shaping = dict(
            force_unknown=p["force_unknown"],
            force_certificate_mismatch=p["force_certificate_mismatch"],
            redirect=p["redirect_command"],
            redirect_timeout=p["redirect_timeout"],
            site_url=p["site_url"],
        )
        plan = bt_dr.plan_failover(site, clients, p["mode"], **shaping)
        if module.check_mode:
            module.exit_json(changed=True, plan=plan.to_dict())
        timeline = bt_dr.execute_failover(
            site,
            clients,
            plan,
            settle_timeout=float(p["settle_timeout"]),
            poll_interval=p["poll_interval"],
            demote_old_primary=p["demote_old_primary"],
            redirect_verify_timeout=p["redirect_verify_timeout"],
            confirm_timeout=p["confirm_timeout"],
            **shaping
        )
        result = dict(
            changed=True,
            plan=plan.to_dict(),
            timeline=timeline.to_dict(),
            outcome=timeline.outcome,
            follow_up=timeline.follow_up,
            redirect=None if timeline.redirect is None else timeline.redirect.to_dict(),
            confirmation=None if timeline.confirmation is None else timeline.confirmation.to_dict(),
        )
        if timeline.outcome != "settled":
            module.fail_json(msg="the failover did not settle: %s" % timeline.outcome, **result)
        module.exit_json(**result)
    except bt_dr.BtDrError as e:
        fail_from(module, e)
    finally:
        close_all(clients.values())


if __name__ == "__main__":
    main()
