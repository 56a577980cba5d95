# -*- coding: utf-8 -*-
# Copyright: bt-dr developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection and credential options shared by every bt_dr.sra module."""

    DOCUMENTATION = r"""
options:
  client_id:
    description:
      - OAuth client id of the appliance API account.
      - Falls back to the E(BT_DR_CLIENT_ID) environment variable.
      - Not needed when O(inventory) names a site whose C(api) section gives it.
    type: str
  client_secret:
    description:
      - OAuth client secret of the API account. Never logged or returned.
      - Falls back to the E(BT_DR_CLIENT_SECRET) environment variable, then to the variable
        named by the inventory site's C(api.client_secret_env).
    type: str
  ca_file:
    description:
      - PEM file of an extra CA to trust (a private PKI), in addition to the system roots.
    type: path
  pin_sha256:
    description:
      - SHA-256 of the appliance's certificate (hex, colons allowed); any other certificate is refused.
    type: str
  validate_certs:
    description:
      - Verify the appliance's certificate. Only set V(false) in a lab; a pin still applies.
    type: bool
    default: true
  timeout:
    description:
      - Request timeout in seconds for API calls (downloads are bounded by read silence instead).
    type: int
    default: 120
requirements:
  - python >= 3.9
  - bt_dr (the bt-dr Python package, built from bt-dr-py)
notes:
  - "Runs on the host that reaches the appliances (often C(localhost) with C(connection: local))."
"""

    INVENTORY = r"""
options:
  inventory:
    description:
      - Path of a bt-dr fleet inventory (TOML, JSON or YAML). With O(site), the site's appliances,
        failover pair and API settings come from it.
    type: path
  site:
    description:
      - Name of the site in O(inventory).
    type: str
"""
