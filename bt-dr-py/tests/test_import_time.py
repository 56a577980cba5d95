"""`import bt_dr` stays cheap (issue 16 item 2: ≤ 50 ms over a bare interpreter).

Speed itself is measured by ``bench/scripts/import_time.py`` (best of N against ``import
json`` and ``import requests``), not asserted here: a timed test fails on a busy machine. These
tests check the structure that keeps the import fast instead — importing bt_dr builds no
dataclass and does not load ``dataclasses`` (which pulls in ``inspect``) — and that the classes
made on first use are the same frozen dataclasses they were when built at import.
"""

import json
import subprocess
import sys
from typing import Any, Dict, List

import bt_dr
from bt_dr import _base


def run_fresh(code: str) -> Any:
    """Runs ``code`` in a fresh interpreter and returns the JSON it prints last."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_builds_no_dataclass() -> None:
    out = run_fresh(
        "import json, sys, bt_dr, bt_dr._base as b\n"
        "heavy = ('dataclasses', 'inspect', 'ast', 'dis')\n"
        "print(json.dumps({'realized': b.realized(), 'modules': sorted(m for m in heavy if m in sys.modules)}))"
    )
    assert out == {"realized": [], "modules": []}


def test_first_use_builds_only_what_it_needs() -> None:
    out = run_fresh(
        "import json, bt_dr, bt_dr._base as b\n"
        "v = bt_dr.check_restore('24.2.0', '24.1.1')\n"
        "print(json.dumps({'realized': b.realized(), 'verdict': v.compatibility}))"
    )
    assert out == {"realized": ["RestoreCheck"], "verdict": "refused"}


def test_dataclass_introspection_before_first_instance() -> None:
    # dataclasses.fields/replace/is_dataclass on a class nothing has instantiated yet.
    out = run_fresh(
        "import dataclasses, json, bt_dr\n"
        "names = [f.name for f in dataclasses.fields(bt_dr.FailoverPlan)]\n"
        "print(json.dumps({'names': names[:3], 'dc': dataclasses.is_dataclass(bt_dr.Probe)}))"
    )
    assert out == {"names": ["site", "mode", "from_"], "dc": True}


def test_concurrent_first_use_builds_each_class_once() -> None:
    # Many threads decoding the same never-used classes at once: one build each, no errors.
    out = run_fresh(
        "import json, threading, bt_dr, bt_dr._base as b\n"
        "errors = []\n"
        "def work():\n"
        "    try:\n"
        "        bt_dr.Site.from_dict({'name': 'a', 'fqdn': 'a.example', 'product': 'rs', 'version': '24.1.1',\n"
        "                              'failover': {'primary': 'p', 'backup': 'b', 'routing': 'shared_ip'}})\n"
        "    except Exception as e:\n"
        "        errors.append(repr(e))\n"
        "ts = [threading.Thread(target=work) for _ in range(16)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "r = b.realized()\n"
        "print(json.dumps({'errors': errors, 'dupes': len(r) - len(set(r)), 'site': 'Site' in r}))"
    )
    assert out == {"errors": [], "dupes": 0, "site": True}


def test_models_stay_frozen_dataclasses() -> None:
    import dataclasses

    site = bt_dr.Site.from_dict({"name": "a", "fqdn": "a.example", "product": "rs", "version": "24.1.1"})
    assert dataclasses.is_dataclass(site)
    try:
        site.name = "b"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a model accepted an assignment")
    moved = dataclasses.replace(site, fqdn="b.example")
    assert moved.fqdn == "b.example" and moved == dataclasses.replace(moved)
    assert site.to_dict()["fqdn"] == "a.example"
    # Field JSON keys survive the deferred build (`from`/`class` are keywords in Python).
    smtp = bt_dr._model.Smtp.from_dict({"from": "dr@example.com"})
    assert smtp.sender == "dr@example.com" and smtp.to_dict()["from"] == "dr@example.com"


def test_strict_models_still_refuse_unknown_fields() -> None:
    out = run_fresh(
        "import json, os\n"
        "os.environ['BT_DR_STRICT_MODELS'] = '1'\n"
        "import bt_dr\n"
        "try:\n"
        "    bt_dr.Finding.from_dict({'id': 'x', 'severity': 'info', 'subject': 's', 'message': 'm', 'new': 1})\n"
        "    print(json.dumps('accepted'))\n"
        "except TypeError as e:\n"
        "    print(json.dumps(str(e)))"
    )
    assert "Finding has no field for ['new']" in out


def test_secrets_stay_out_of_options_repr() -> None:
    opts = bt_dr.BackupSetOptions(backup_password="hunter2", certificate_passphrase="p12-secret")
    assert "hunter2" not in repr(opts) and "p12-secret" not in repr(opts)
    assert opts._native()["backup_password"] == "hunter2"


def test_realized_lists_names() -> None:
    bt_dr.Finding.from_dict({"id": "x", "severity": "info", "subject": "s", "message": "m"})
    names: List[str] = _base.realized()
    assert "Finding" in names
    fields: Dict[str, Any] = {f: None for f in ("id", "severity")}
    assert set(fields) <= set(bt_dr.Finding.__dataclass_fields__)
