# -*- coding: utf-8 -*-
# Copyright: bt-dr developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Shared plumbing of the bt_dr.sra modules: the guarded import of ``bt_dr``, the auth and
inventory options, client construction and error reporting. Every DR rule stays in bt_dr."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

BT_DR_IMPORT_ERROR = None
try:
    import bt_dr
except ImportError:
    bt_dr = None
    BT_DR_IMPORT_ERROR = traceback.format_exc()

SEVERITIES = ["info", "warning", "error", "critical"]


def auth_argument_spec():
    """Options of the ``bt_dr.sra.auth`` doc fragment."""
    return dict(
        client_id=dict(type="str", fallback=(env_fallback, ["BT_DR_CLIENT_ID"])),
        client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["BT_DR_CLIENT_SECRET"])),
        ca_file=dict(type="path"),
        pin_sha256=dict(type="str"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=120),
    )


def inventory_argument_spec():
    """Options of the ``bt_dr.sra.auth.INVENTORY`` doc fragment."""
    return dict(
        inventory=dict(type="path"),
        site=dict(type="str"),
    )


def require_bt_dr(module):
    """Fails the module when the bt_dr package is not importable on the managed host."""
    if bt_dr is None:
        module.fail_json(
            msg=missing_required_lib("bt_dr", reason="to talk to BeyondTrust appliances"),
            exception=BT_DR_IMPORT_ERROR,
        )


def fail_from(module, err, **extra):
    """Reports a bt_dr error: its message and structured details (``error.kind`` etc.)."""
    details = dict(getattr(err, "details", None) or {})
    details.setdefault("kind", getattr(err, "kind", None) or type(err).__name__)
    module.fail_json(msg=str(err), error=details, **extra)


def client_options(module):
    """Client keyword arguments from the auth options."""
    p = module.params
    opts = dict(
        ca_file=p.get("ca_file"),
        pin_sha256=p.get("pin_sha256"),
        danger_accept_invalid_certs=not p.get("validate_certs", True),
        request_timeout=p.get("timeout"),
    )
    return dict((k, v) for k, v in opts.items() if v is not None)


def client_for_url(module, url, site_name=None, product=None):
    """A client for one appliance URL with the module's credentials."""
    p = module.params
    if not p.get("client_id") or not p.get("client_secret"):
        module.fail_json(msg="client_id and client_secret are required (or BT_DR_CLIENT_ID / BT_DR_CLIENT_SECRET)")
    opts = client_options(module)
    if site_name:
        opts["site_name"] = site_name
    if product:
        opts["product"] = product
    return bt_dr.Client(url, p["client_id"], p["client_secret"], **opts)


def client_for_appliance(module, site, hostname):
    """A client for an inventory appliance; module credentials override the site's api section."""
    p = module.params
    return bt_dr.Client.for_appliance(
        site,
        hostname,
        client_id=p.get("client_id"),
        client_secret=p.get("client_secret"),
        **client_options(module)
    )


def load_site(module, required=True):
    """The site named by ``site`` in ``inventory``, or None when no inventory is given."""
    p = module.params
    if not p.get("inventory"):
        if required:
            module.fail_json(msg="inventory and site are required")
        return None
    if not p.get("site"):
        module.fail_json(msg="site is required with inventory")
    inv = bt_dr.load_inventory(p["inventory"])
    site = inv.site(p["site"])
    if site is None:
        module.fail_json(
            msg="site %s is not in %s" % (p["site"], p["inventory"]),
            error=dict(kind="not_found"),
            sites=[s.name for s in inv.sites],
        )
    return site


def close_all(clients):
    """Closes clients, ignoring errors."""
    for c in clients:
        try:
            c.close()
        except Exception:  # pylint: disable=broad-except
            pass
