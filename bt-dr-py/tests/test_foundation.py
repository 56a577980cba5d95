"""Offline operations: versions, backup names, restore rules, NSB coverage, certificates,
records and inventories."""

import datetime as dt
import json
from pathlib import Path
from typing import Any, Dict

import pytest

import bt_dr

from conftest import FIXTURES, FIXTURE_PASS

BUILD = "24.1.2 (37380-0123456789abcdef0123456789abcdef01234567)"


def roundtrips_as_json(obj: bt_dr.Model) -> Dict[str, Any]:
    d = obj.to_dict()
    assert json.loads(json.dumps(d)) == d
    again = type(obj).from_dict(d)
    assert again == obj, f"{type(obj).__name__} does not survive to_dict/from_dict"
    return d


# ---------------------------------------------------------------- versions


def test_parse_version_with_build() -> None:
    v = bt_dr.parse_version(BUILD)
    assert (v.major, v.minor, v.patch) == (24, 1, 2)
    assert v.release == "24.1.2"
    assert v.build_number == 37380
    assert v.build_commit == "0123456789abcdef0123456789abcdef01234567"
    assert str(v) == BUILD
    roundtrips_as_json(v)


def test_compare_versions() -> None:
    assert bt_dr.compare_versions("24.1.2", "24.2.0") == -1
    assert bt_dr.compare_versions(bt_dr.parse_version("24.2.0"), "24.1.9") == 1
    assert bt_dr.compare_versions("24.1.2", "24.1.2") == 0


# ---------------------------------------------------------------- backup names


def test_parse_and_format_backup_name() -> None:
    n = bt_dr.parse_backup_name("bomgar-24.1.2-support-eu.example-2026-11-20-5f3a9c01.nsb")
    assert n.version.release == "24.1.2"
    assert n.site == "support-eu.example"
    assert n.date == dt.date(2026, 11, 20)
    assert n.time is None
    assert n.id == "5f3a9c01"
    assert str(n) == "bomgar-24.1.2-support-eu.example-20261120-5f3a9c01.nsb"
    assert bt_dr.parse_backup_name(Path("/backups") / str(n)) == n
    d = roundtrips_as_json(n)
    assert d["date"] == "2026-11-20"


def test_format_backup_name_with_time() -> None:
    name = bt_dr.format_backup_name(BUILD, "support", dt.date(2026, 1, 2), "ab12", dt.time(3, 4, 5))
    assert name == "bomgar-24.1.2-support-20260102T030405-ab12.nsb"
    assert bt_dr.parse_backup_name(name).time == dt.time(3, 4, 5)


def test_bad_backup_names() -> None:
    with pytest.raises(bt_dr.BtDrError):
        bt_dr.parse_backup_name("backup.zip")
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.format_backup_name("24.1.2", "support", "2026-01-02", "not-an-id!")


# ---------------------------------------------------------------- restore


TABLE_TOML = """
[[releases]]
version = "24.1"
supported_upgrades_from = ["23.2"]
"""


def test_check_restore_with_table_in_every_form(tmp_path: Path) -> None:
    p = tmp_path / "upgrades.toml"
    p.write_text(TABLE_TOML)
    table = bt_dr.load_upgrade_table(p)
    assert table.releases[0].supported_upgrades_from == ["23.2"]
    for t in (table, table.to_dict(), p, str(p), TABLE_TOML, TABLE_TOML.encode()):
        assert bt_dr.check_restore("23.2.1", "24.1.0", t).compatibility == "supported"
    assert bt_dr.check_restore("22.1.0", "24.1.0", table).compatibility == "untested"
    refused = bt_dr.check_restore("24.2.0", "24.1.0", table)
    assert refused.compatibility == "refused"
    assert not refused.supported
    assert refused.warning
    roundtrips_as_json(refused)


def test_check_restore_products() -> None:
    r = bt_dr.check_restore("24.1.2", "24.1.2", backup_product="rs", site_product="pra")
    assert r.compatibility == "refused"
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.check_restore("24.1.2", "24.1.2", backup_product="xx")


def test_upgrade_table_json_and_dict() -> None:
    t = bt_dr.load_upgrade_table({"releases": [{"version": "24.1", "supported_upgrades_from": ["23.1"]}]})
    assert t.releases[0].version == "24.1"
    t2 = bt_dr.load_upgrade_table(json.dumps(t.to_dict()) + "\n", format="json")
    assert t2 == t
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.load_upgrade_table({"releases": [{"version": "24.1", "bogus": 1}]})


# ---------------------------------------------------------------- NSB coverage


def test_nsb_coverage() -> None:
    c = bt_dr.nsb_coverage("rs")
    ids = [e.id for e in c.excluded]
    assert "session_recordings" in ids and "appliance_settings" in ids
    assert all(i.label for i in c.included)
    assert "NsbCoverage(product='rs'" in repr(c)
    with_history = bt_dr.nsb_coverage("pra", include_logged_history=True)
    assert with_history.product == "pra" and with_history.include_logged_history
    roundtrips_as_json(c)


# ---------------------------------------------------------------- certificates


def test_certificate_bundle_from_path_and_bytes() -> None:
    p = FIXTURES / "default_chain.p12"
    r = bt_dr.check_certificate_bundle(
        p,
        FIXTURE_PASS,
        site_fqdn="support.example.com",
        appliance_hostnames=["bt-a.example.com", "bt-b.example.com"],
        now=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
    )
    assert r.usable
    assert r.has_private_key and r.key_matches_leaf
    leaf = r.leaf_cert
    assert leaf is not None and leaf.issued_to == "support.example.com"
    assert leaf.cert_class == "ca_signed"
    assert len(r.chain) == 3
    assert r.findings == []
    assert r.worst is None
    assert "usable=True" in repr(r)
    d = roundtrips_as_json(r)
    assert d["certificates"][0]["class"] == "ca_signed"
    again = bt_dr.check_certificate_bundle(p.read_bytes(), FIXTURE_PASS.encode())
    assert again.certificates == r.certificates


@pytest.mark.parametrize(
    "fixture,finding",
    [
        ("missing_intermediate.p12", "missing_intermediate"),
        ("two_roots.p12", "multiple_roots"),
        ("expired.p12", "expired"),
        ("mismatched_key.p12", "key_mismatch"),
        ("no_key.p12", "no_private_key"),
        ("wrong_host.p12", "site_fqdn_not_covered"),
        ("weak_rsa1024.p12", "weak_key"),
        ("self_signed.p12", "self_signed_in_use"),
    ],
)
def test_certificate_findings(fixture: str, finding: str) -> None:
    r = bt_dr.check_certificate_bundle(FIXTURES / fixture, FIXTURE_PASS, site_fqdn="support.example.com")
    assert finding in r.finding_ids()
    assert all(isinstance(f, bt_dr.Finding) for f in r.findings)


def test_empty_passphrase_bundle() -> None:
    r = bt_dr.check_certificate_bundle(FIXTURES / "no_passphrase.p12", "")
    assert "no_passphrase" in r.finding_ids()
    assert not r.usable


def test_certificate_pair() -> None:
    a = bt_dr.check_certificate_bundle(FIXTURES / "default_chain.p12", FIXTURE_PASS)
    b = bt_dr.check_certificate_bundle(FIXTURES / "legacy_chain.p12", FIXTURE_PASS)
    same = bt_dr.check_certificate_pair(a, b)
    assert same.identical and same.findings == []
    other = bt_dr.check_certificate_bundle(FIXTURES / "wrong_host.p12", FIXTURE_PASS)
    diff = bt_dr.check_certificate_pair(a.to_dict(), other)
    assert not diff.identical
    assert [f.id for f in diff.findings] == ["pair_certificate_mismatch"]
    roundtrips_as_json(diff)


# ---------------------------------------------------------------- records


RECORD: Dict[str, Any] = {
    "identity": {
        "hostname": "bt-a.example.com",
        "appliance_version": "7.2.1",
        "serial": "SN123",
        "base_version": "7.2.0",
        "system_time": "2026-11-20T10:00:00Z",
    },
    "ip_configuration": [
        {"name": "eth0", "addresses": ["10.0.0.5/24"], "gateway": "10.0.0.1", "dns_servers": ["10.0.0.2"]}
    ],
    "static_routes": [{"destination": "10.1.0.0/16", "gateway": "10.0.0.1"}],
    "smtp": {"server": "smtp.example.com", "from": "bt@example.com", "certificate_reminders": True, "recipients": ["ops@example.com"]},
}


def test_appliance_record_roundtrip(tmp_path: Path) -> None:
    r = bt_dr.appliance_record(RECORD)
    assert r.identity.hostname == "bt-a.example.com"
    assert r.identity.system_time == dt.datetime(2026, 11, 20, 10, tzinfo=dt.timezone.utc)
    assert r.smtp is not None and r.smtp.sender == "bt@example.com"
    assert r.file_name.startswith("appliance-bt-a.example.com-v7.2.1-sn-SN123")
    r.validate()
    path = r.save(tmp_path)
    assert path.name == r.file_name
    loaded = bt_dr.appliance_record(path)
    assert loaded == r
    assert json.loads(path.read_text())["smtp"]["from"] == "bt@example.com"
    assert bt_dr.appliance_record(path.read_text(), format="json") == r
    roundtrips_as_json(r)


def test_appliance_record_validation() -> None:
    bad = json.loads(json.dumps(RECORD))
    bad["smtp"]["recipients"] = []
    with pytest.raises(bt_dr.InvalidInput) as ei:
        bt_dr.appliance_record(bad)
    assert ei.value.field == "smtp.recipients"
    bad2 = json.loads(json.dumps(RECORD))
    bad2["ip_configuration"][0]["addresses"] = ["10.0.0.5"]
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.appliance_record(bad2)


def test_vault_key_record(tmp_path: Path) -> None:
    key = tmp_path / "vault.key"
    key.write_bytes(b"opaque key bytes")
    r = bt_dr.vault_key_record(key, "support", dt.date(2026, 11, 20), password_protected=False)
    assert r.size == 16 and len(r.sha256) == 64
    assert r.date == dt.date(2026, 11, 20)
    assert [f.id for f in r.findings] == ["vault_key_unprotected"]
    assert r.pairs_with("support", "2026-11-20")
    assert not r.pairs_with("support", dt.date(2026, 11, 21))
    ok = bt_dr.vault_key_record(str(key), "support", "2026-11-20", True)
    assert ok.findings == []
    roundtrips_as_json(r)
    empty = tmp_path / "empty.key"
    empty.write_bytes(b"")
    with pytest.raises(bt_dr.IntegrityError):
        bt_dr.vault_key_record(empty, "support", "2026-11-20", True)


# ---------------------------------------------------------------- inventory


INVENTORY_TOML = """
[[sites]]
name = "support"
fqdn = "support.example.com"
product = "rs"
version = "24.1.2"

[[sites.appliances]]
hostname = "bt-a.example.com"
kind = "vmware"

[[sites.appliances]]
hostname = "bt-b.example.com"
kind = "hyper-v"

[sites.failover]
primary = "bt-a.example.com"
backup = "bt-b.example.com"
routing = "dns-swing"

[sites.api]
client_id = "bt-dr"
client_secret_env = "BT_DR_SECRET"
"""


def test_inventory_in_every_form(tmp_path: Path) -> None:
    p = tmp_path / "fleet.toml"
    p.write_text(INVENTORY_TOML)
    inv = bt_dr.load_inventory(p)
    site = inv.site("support")
    assert site is not None
    assert site.failover is not None and site.failover.routing == "dns-swing"
    assert site.api is not None and site.api.client_secret_env == "BT_DR_SECRET"
    assert [a.kind for a in site.appliances] == ["vmware", "hyper-v"]
    assert inv.site("nope") is None
    assert repr(inv) == "Inventory(sites=['support'])"
    for src in (str(p), INVENTORY_TOML, INVENTORY_TOML.encode(), inv.to_dict()):
        assert bt_dr.load_inventory(src) == inv
    j = tmp_path / "fleet.json"
    j.write_text(json.dumps(inv.to_dict()))
    assert bt_dr.load_inventory(j) == inv
    y = tmp_path / "fleet.yaml"
    y.write_text("sites:\n  - name: support\n    fqdn: support.example.com\n    product: rs\n    version: 24.1.2\n")
    assert bt_dr.load_inventory(y).sites[0].name == "support"
    roundtrips_as_json(inv)


def test_inventory_errors_name_file_line_and_field(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text('[[sites]]\nname = "support"\nfqdn = "support.example.com"\nproduct = "zz"\nversion = "24.1.2"\n')
    with pytest.raises(bt_dr.ParseError) as ei:
        bt_dr.load_inventory(p)
    assert ei.value.details["file"] == str(p)
    assert ei.value.details["line"] == 4
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.load_inventory({"sites": [{"name": "a", "fqdn": "bad host", "product": "rs", "version": "24.1.2"}]})
    with pytest.raises(bt_dr.IoError):
        bt_dr.load_inventory(tmp_path / "missing.toml")
    with pytest.raises(TypeError):
        bt_dr.load_inventory({"sites": [{"name": object()}]})


# ---------------------------------------------------------------- misc


def test_operations_list() -> None:
    ops = bt_dr.operations()
    names = [o.name for o in ops]
    assert "check_restore" in names and "download_backup" in names
    assert len(names) == len(set(names))


def test_required_permission() -> None:
    assert bt_dr.required_permission("download_backup") == "perm_backup"
    assert bt_dr.required_permission("parse_version") is None


def test_severity_order() -> None:
    assert bt_dr.severity_at_least("critical", "error")
    assert not bt_dr.severity_at_least("warning", "error")
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.severity_at_least("bad", "error")


def test_time_windows() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    w = bt_dr.TimeWindow.last_seconds(3600, now=now)
    assert w.to_dict() == {"type": "start_time", "unix": int(now.timestamp()) - 3600, "seconds": 3600}
    assert bt_dr.TimeWindow.start_date("2026-01-01", 7).to_dict() == {"type": "start_date", "date": "2026-01-01", "days": 7}
    assert bt_dr.TimeWindow.for_lsids(["a", "b"]).lsids == ["a", "b"]


def test_docstring_examples() -> None:
    import doctest

    for module in (bt_dr, bt_dr._client, bt_dr._model):
        failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failed == 0, module.__name__
