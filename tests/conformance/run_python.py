"""The Python side of the conformance test: runs ONE case through ``bt_dr._native``.

    python run_python.py CASE_JSON

prints one JSON line, ``{"result": ...}`` or ``{"error": {"kind", "code", "message",
"details"}}``. It calls the native module (the JSON the binding produces; the typed models of
``bt_dr`` are built from exactly this) and maps the case's named arguments to the call, nothing
else: no shape is decided here. Simulator cases read the simulator from
``BT_DR_CONFORMANCE_SIM`` (the simulator's JSON line).
"""

import json
import os
import sys
from typing import Any, Callable, Dict

from bt_dr import _native as n


def client(which: str = "primary_url") -> Any:
    """A client of the simulator pair's primary (or, with ``backup_url``, its backup)."""
    sim = json.loads(os.environ["BT_DR_CONFORMANCE_SIM"])
    with open(sim["ca_pem_path"], "rb") as f:
        ca = f.read()
    return n.NativeClient(
        sim[which], sim["client_id"], sim["client_secret"], ca_pem=ca, site_name="support"
    )


def site(inventory: str, name: str) -> Any:
    return next(s for s in n.load_inventory(path=inventory)["sites"] if s["name"] == name)


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


OPS: Dict[str, Callable[[Dict[str, Any]], Any]] = {
    "parse_version": lambda a: n.parse_version(a["text"]),
    "parse_backup_name": lambda a: n.parse_backup_name(a["name"]),
    "format_backup_name": lambda a: n.format_backup_name(
        a["version"], a["site"], a["date"], a["id"], a.get("time")
    ),
    "check_restore": lambda a: n.check_restore(
        a["backup_version"],
        a["site_version"],
        backup_product=a.get("backup_product"),
        site_product=a.get("site_product"),
    ),
    "check_restore_onto": lambda a: n.check_restore_onto(
        site(a["inventory"], a["site"]),
        a["backup_version"],
        backup_product=a.get("backup_product"),
    ),
    "nsb_coverage": lambda a: n.nsb_coverage(a["product"], a.get("include_logged_history", False)),
    "load_inventory": lambda a: n.load_inventory(path=a["path"]),
    "check_certificate_bundle": lambda a: n.check_certificate_bundle(
        read(a["p12"]), a["passphrase"], a.get("options")
    ),
    "appliance_record": lambda a: n.appliance_record_load(path=a["path"]),
    "vault_key_record": lambda a: n.vault_key_record(
        a["path"], a["site"], a["date"], a["password_protected"]
    ),
    "plan_retention": lambda a: n.plan_retention(a["site"], a["policy"], sets=a["sets"]),
    "verify_backup_set": lambda a: n.verify_backup_set(a["set"]),
    "audit": lambda a: n.audit(
        n.load_inventory(path=a["inventory"]), store=a.get("store"), options=a.get("options")
    ),
    "plan_failover": lambda a: n.plan_failover(
        site(a["inventory"], a["site"]),
        ("bt-a.example.com", client()),
        ("bt-b.example.com", client("backup_url")),
        a["mode"],
        a.get("options"),
    ),
    "check_health": lambda a: client().check_health(),
    "get_api_info": lambda a: client().get_api_info(),
    "download_report": lambda a: client().download_report(a["kind"], a["window"], a["dir"]),
}


def main() -> None:
    case = json.loads(sys.argv[1])
    try:
        out: Dict[str, Any] = {"result": OPS[case["op"]](case.get("args", {}))}
    except n.BtDrError as e:
        out = {
            "error": {
                "kind": e.kind,
                "code": getattr(e, "code", None),
                "message": e.message,
                "details": e.details,
            }
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
