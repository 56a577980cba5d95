"""Issue 13 through Python, against the simulator: the reporting archive of every kind
(``download_report``, ``reporting_kinds``), NSBs of both appliances of a pair, restore onto a
pair, the Atlas check, identical certificates and the redirect -> role change -> confirm order
of a failover, version-aware retention and the inventory's thresholds."""

import dataclasses
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import bt_dr

from conftest import FIXTURE_PASS, FIXTURES, Sim
from test_dr import SECRET_ENV, site_of

EU = "tn-eu.example.com"


@pytest.fixture
def secret_env(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, sim.client_secret)
    yield


def error_texts(e: bt_dr.BtDrError) -> List[str]:
    return [str(e), repr(e), repr(e.args), e.message, json.dumps(e.details, default=str)]


# ---------------------------------------------------------------- reporting data


def test_download_report_of_every_kind(client: bt_dr.Client, tmp_path: Path) -> None:
    sessions = client.list_sessions(bt_dr.TimeWindow.last_seconds(10 * 86400))
    lsid = sessions[0].lsid
    # A session recording, by session id: saved under bt-dr's name, hash as promised.
    rec = client.download_report("session_recording", lsid, tmp_path / "rec")
    assert rec.file_name.startswith(lsid) and rec.path.parent == tmp_path / "rec"
    data = rec.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == rec.sha256 and len(data) == rec.size > 0
    # The same through a TimeWindow, with progress.
    seen: List[int] = []
    again = client.download_report(
        "session_recording", bt_dr.TimeWindow.for_lsid(lsid), tmp_path / "again", progress=lambda d, t: seen.append(d)
    )
    assert again.sha256 == rec.sha256 and seen and seen[-1] == again.size
    # The session report (XML) of the session, and the exit surveys of a time window.
    report = client.download_report("session_report", {"type": "lsid", "lsid": lsid}, tmp_path)
    assert report.file_name == f"{lsid}.xml" and lsid.encode() in report.path.read_bytes()
    survey = client.download_report("customer_exit_survey", bt_dr.TimeWindow.start_time(0), tmp_path)
    assert survey.path.exists() and hashlib.sha256(survey.path.read_bytes()).hexdigest() == survey.sha256
    # Wrong window for the kind, unknown kind: typed InvalidInput, nothing written.
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(bt_dr.InvalidInput):
        client.download_report("session_recording", bt_dr.TimeWindow.start_time(0), tmp_path)
    with pytest.raises(bt_dr.InvalidInput):
        client.download_report("rep_exit_survey", lsid, tmp_path)
    with pytest.raises(bt_dr.InvalidInput) as ei:
        client.download_report("screen_movie", lsid, tmp_path)
    assert "session_recording" in str(ei.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_reporting_kinds_option_and_the_archive_outlives_retention(
    fresh_sim: Sim, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A simulator of its own: this test adds sessions.
    sim = fresh_sim
    monkeypatch.setenv(SECRET_ENV, sim.client_secret)
    site = site_of(sim)
    store = tmp_path / "store"
    opts = bt_dr.BackupSetOptions(reporting_kinds=("session_recording", "command_shell_recording"))
    with bt_dr.Client.for_appliance(site, "bt-a.example.com") as c:
        first = bt_dr.run_backup_set(store, site, c, opts)
        m = first.manifest
        assert m.format == 3
        assert m.recordings is not None
        assert [(k.kind, k.status, k.count) for k in m.recordings.kinds] == [
            ("session_recording", "ok", 3),
            ("command_shell_recording", "ok", 1),
        ]
        assert {r.kind for r in m.reporting} == {"session_recording", "command_shell_recording"}
        # New sessions (not every one recorded); the next set takes only them (the checkpoint
        # is per kind).
        everything = bt_dr.TimeWindow.start_time(0)
        before = {x.lsid for x in c.list_sessions(everything)}
        sim.control("/appliances/0/add_sessions", {"count": 4})
        added = {x.lsid for x in c.list_sessions(everything)} - before
        second = bt_dr.run_backup_set(store, site, c, {"reporting_kinds": ["session_recording"]})
    new = {r.lsid for r in second.manifest.reporting_of("session_recording")}
    assert new and new <= added, (new, added)
    # Retention removes the first set; the recordings it took stay in the archive.
    plan = bt_dr.plan_retention(store, site, keep_last=1)
    assert plan.remove == [first.set_id]
    assert bt_dr.apply_retention(store, plan) == [first.set_id]
    for r in m.reporting:
        kept = store / "support" / r.path
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == r.sha256
    assert bt_dr.verify_backup_set(second.path).ok


def test_backup_set_options_are_parsed_by_the_core(sim: Sim, secret_env: None, tmp_path: Path) -> None:
    site = site_of(sim)
    with bt_dr.Client.for_appliance(site, "bt-a.example.com") as c:
        for bad in (
            {"recording": False},
            {"reporting_kinds": ["screen_movie"]},
            {"thresholds": {"min_rsa_bits_x": 1}},
            {"vault_key": "/only/a/path"},
        ):
            with pytest.raises(bt_dr.InvalidInput) as ei:
                bt_dr.run_backup_set(tmp_path, site, c, bad)
            assert ei.value.field == "backup set options", bad
        # A wrongly typed secret is refused without echoing it.
        with pytest.raises(bt_dr.InvalidInput) as ei:
            bt_dr.run_backup_set(tmp_path, site, c, {"backup_password": ["pw-Zq8x-secret"]})
        assert all("pw-Zq8x-secret" not in t for t in error_texts(ei.value))
        # Thresholds reach the bundle check through the options (the fixture's key is 2048 bits;
        # with the default minimum the bundle has no finding, see test_dr).
        opts = bt_dr.BackupSetOptions(
            recordings=False,
            certificate_bundle=FIXTURES / "default_chain.p12",
            certificate_passphrase=FIXTURE_PASS,
            thresholds=bt_dr.Thresholds(min_rsa_bits=4096),
        )
        rep = bt_dr.run_backup_set(tmp_path, site, c, opts)
    assert rep.manifest.recordings is None and rep.manifest.reporting == []
    assert rep.manifest.certificate is not None
    assert any("4096" in f.message for f in rep.manifest.certificate.findings), rep.manifest.certificate.findings
    assert bt_dr.list_backup_sets(tmp_path, site)[0].id == rep.set_id


# ---------------------------------------------------------------- both appliances of a pair


def test_backup_set_takes_the_nsb_of_the_other_appliance(sim: Sim, secret_env: None, tmp_path: Path) -> None:
    site = site_of(sim)
    clients = bt_dr.Client.for_pair(site)
    primary, backup = clients["bt-a.example.com"], clients["bt-b.example.com"]
    rep = bt_dr.run_backup_set(tmp_path, site, primary, {"recordings": False}, other_appliances=[backup])
    nsbs = rep.manifest.appliance_nsbs
    assert [(n.base_url, n.role, n.main) for n in nsbs] == [
        (sim.primary_url, "primary", True),
        (sim.backup_url, "backup", False),
    ]
    assert nsbs[0].file == rep.manifest.nsb.file and nsbs[1].file.startswith("appliances/")
    assert (rep.path / nsbs[1].file).is_file()
    assert {"nsb"} == {f.kind for f in rep.manifest.files if f.path == nsbs[1].file}
    assert not rep.partial and bt_dr.verify_backup_set(rep.path).ok
    # The same through a backup job (a 4-tuple), next to a plain 3-tuple.
    job = bt_dr.run_backup_job(
        tmp_path / "job",
        [(site, primary, {"recordings": False}, [backup]), (site_of(sim, "other"), primary, {"recordings": False})],
    )
    assert job.all_complete
    reports = [s.report for s in job.sites]
    assert reports[0] is not None and len(reports[0].manifest.appliance_nsbs) == 2
    assert reports[1] is not None and reports[1].manifest.appliance_nsbs == []
    for c in clients.values():
        c.close()


def test_restore_onto_a_pair(sim: Sim) -> None:
    site = site_of(sim)
    c = bt_dr.check_restore_onto(site, sim.info["version"])
    assert c.supported and c.warning is not None and "pre-shared key" in c.warning
    assert len(c.steps) == 4
    assert c.steps[0].startswith("Break failover") and c.steps[3].startswith("Re-establish failover")
    assert "pre-shared key" in c.steps[2]
    # A site without a pair gets the plain verdict; a refused restore gets no steps.
    single = dataclasses.replace(site, failover=None)
    plain = bt_dr.check_restore_onto(single.to_dict(), bt_dr.parse_version(sim.info["version"]), backup_product="rs")
    assert plain.supported and plain.steps == [] and plain.warning is None
    refused = bt_dr.check_restore_onto(site, "25.1.0", {"releases": []})
    assert refused.compatibility == "refused" and refused.steps == []
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.check_restore_onto(site, "24.1.2", backup_product="vnc")


# ---------------------------------------------------------------- atlas


@pytest.fixture
def atlas_sim() -> Iterator[Sim]:
    sim = Sim("--traffic-node", EU)
    try:
        yield sim
    finally:
        sim.stop()


def atlas_site(sim: Sim) -> bt_dr.Site:
    assert sim.backup_url is not None and len(sim.info["traffic_urls"]) == 1
    def app(host: str, url: str, role: str) -> Dict[str, Any]:
        return {"hostname": host, "kind": "vmware", "cluster_role": role, "api_url": url}
    return bt_dr.Site.from_dict(
        {
            "name": "support",
            "fqdn": sim.info["site_hostname"],
            "product": "rs",
            "version": sim.info["version"],
            "appliances": [
                app("bt-a.example.com", sim.primary_url, "primary"),
                app("bt-b.example.com", sim.backup_url, "primary"),
                app(EU, sim.info["traffic_urls"][0], "traffic"),
            ],
            "failover": {"primary": "bt-a.example.com", "backup": "bt-b.example.com", "routing": "dns-swing"},
            "atlas": {"traffic_nodes": [{"hostname": EU, "region": "eu"}]},
        }
    )


def test_check_atlas_cluster_reports_the_traffic_nodes(atlas_sim: Sim) -> None:
    site = atlas_site(atlas_sim)
    eu_index = [a["hostname"] for a in atlas_sim.state()].index(EU)
    atlas_sim.control(f"/appliances/{eu_index}/connected_clients", {"counts": [3, 4]})
    urls = [atlas_sim.primary_url, atlas_sim.url(1), atlas_sim.info["traffic_urls"][0]]
    clients = {
        a.hostname: bt_dr.Client(url, atlas_sim.client_id, atlas_sim.client_secret, ca_file=atlas_sim.ca_file)
        for a, url in zip(site.appliances, urls)
    }
    report = bt_dr.check_atlas_cluster(site, clients, sample_interval=0.05)
    assert report.site == "support" and report.sample_interval_ms == 50
    assert report.findings == [], report.finding_ids()
    assert [n.role for n in report.nodes] == ["primary", "primary", "traffic"]
    eu = report.node(EU.upper())
    assert eu is not None and eu.listed and eu.listed_role == "traffic" and eu.reachable and eu.healthy
    assert [s.total for s in eu.samples] == [3, 4] and eu.trend == "increasing"
    assert isinstance(eu.samples[0].at, dt.datetime)
    assert bt_dr.AtlasReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    # The node leaves the cluster: an error finding.
    atlas_sim.control(f"/appliances/{eu_index}/cluster", {"member": False})
    left = bt_dr.check_atlas_cluster(site, clients, sample_interval=0)
    assert "traffic_node_not_in_cluster" in left.finding_ids()
    # What it cannot check is refused, typed.
    without_eu = {h: c for h, c in clients.items() if h != EU}
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.check_atlas_cluster(site, without_eu, sample_interval=0)
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.check_atlas_cluster(dataclasses.replace(site, atlas=None), clients)
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.check_atlas_cluster(site, clients, sample_interval=2 * 3600)
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.check_atlas_cluster(site, {}, sample_interval=0)
    for c in clients.values():
        c.close()


# ---------------------------------------------------------------- failover as the guide orders it


def test_served_leaf_and_identical_certificates(sim: Sim) -> None:
    with sim.client(0) as a, sim.client(1) as b:
        assert a.served_leaf_sha256() is None
        a.check_health()
        b.check_health()
        assert a.served_leaf_sha256() == sim.info["leaf_cert_sha256"] == b.served_leaf_sha256()
        plan = bt_dr.plan_failover(site_of(sim), {"bt-a.example.com": a, "bt-b.example.com": b})
    assert plan.certificates == "identical"
    assert plan.from_.served_leaf_sha256 == sim.info["leaf_cert_sha256"]
    assert plan.site_url == f"https://{sim.info['site_hostname']}"
    assert [s.step for s in plan.steps][:1] == ["redirect"]


def test_different_certificates_refuse_a_planned_failover_unless_forced() -> None:
    sim = Sim("--distinct-certificates")
    try:
        site = site_of(sim)
        with sim.client(0) as a, sim.client(1) as b:
            clients = {"bt-a.example.com": a, "bt-b.example.com": b}
            with pytest.raises(bt_dr.Refused):
                bt_dr.plan_failover(site, clients)
            plan = bt_dr.plan_failover(site, clients, force_certificate_mismatch=True)
        assert plan.certificates == "different"
        assert plan.to.served_leaf_sha256 == sim.info["backup_leaf_cert_sha256"] != sim.info["leaf_cert_sha256"]
        assert [a["role"] for a in sim.state()] == ["primary", "backup"]
    finally:
        sim.stop()


SWING = """
import json, os, sys, urllib.request
with open(sys.argv[1], "w") as f:
    json.dump({k: v for k, v in os.environ.items() if k.startswith("BT_DR_")}, f)
req = urllib.request.Request(sys.argv[2] + "/appliances/1/take_site_address", data=b"{}", method="POST")
urllib.request.urlopen(req, timeout=10).read()
"""


def test_failover_with_a_redirect_command(fresh_sim: Sim, tmp_path: Path) -> None:
    site = site_of(fresh_sim)
    env_file = tmp_path / "env.json"
    redirect = [sys.executable, "-c", SWING, str(env_file), fresh_sim.control_url]
    site_url = fresh_sim.info["site_url"]
    with fresh_sim.client(0) as a, fresh_sim.client(1) as b:
        clients = {"bt-a.example.com": a, "bt-b.example.com": b}
        plan = bt_dr.plan_failover(site, clients, redirect=redirect, site_url=site_url)
        assert plan.site_url == site_url and plan.steps[0].step == "redirect"
        assert Path(sys.executable).name in plan.steps[0].action and "take_site_address" not in plan.steps[0].action
        timeline = bt_dr.execute_failover(
            site,
            clients,
            plan,
            settle_timeout=10,
            poll_interval=0.05,
            redirect=redirect,
            redirect_timeout=30,
            site_url=site_url,
            redirect_verify_timeout=5,
            confirm_timeout=5,
        )
    assert timeline.outcome == "settled", timeline
    assert timeline.redirect is not None and timeline.redirect.method == "command"
    assert timeline.redirect.ran and timeline.redirect.verified and timeline.redirect.answered_by == "bt-b.example.com"
    assert timeline.confirmation is not None and timeline.confirmation.confirmed, timeline.confirmation
    steps = [e.step for e in timeline.events]
    assert steps.index("redirect") < steps.index("verify_redirect") < steps.index("role_change") < steps.index("confirm")
    env = json.loads(env_file.read_text())
    assert env["BT_DR_FROM"] == "bt-a.example.com" and env["BT_DR_TO"] == "bt-b.example.com"
    assert env["BT_DR_SITE_URL"] == site_url and env["BT_DR_ROUTING"] == "dns-swing"
    assert SECRET_ENV not in env
    assert [x["role"] for x in fresh_sim.state()] == ["backup", "primary"]


def test_a_failing_redirect_command_changes_no_role(fresh_sim: Sim) -> None:
    site = site_of(fresh_sim)
    with fresh_sim.client(0) as a, fresh_sim.client(1) as b:
        clients = {"bt-a.example.com": a, "bt-b.example.com": b}
        plan = bt_dr.plan_failover(site, clients, redirect=["false"])
        timeline = bt_dr.execute_failover(
            site, clients, plan, redirect={"command": ["false"], "timeout_ms": 5000}, site_url=fresh_sim.info["site_url"]
        )
    assert timeline.outcome == "redirect_failed", timeline
    assert timeline.error is not None and timeline.redirect is not None and not timeline.redirect.verified
    assert timeline.confirmation is None
    assert "role_change" not in [e.step for e in timeline.events]
    assert [x["role"] for x in fresh_sim.state()] == ["primary", "backup"]


def test_failover_options_are_parsed_by_the_core(sim: Sim) -> None:
    site = site_of(sim)
    with sim.client(0) as a, sim.client(1) as b:
        clients = {"bt-a.example.com": a, "bt-b.example.com": b}
        plan = bt_dr.plan_failover(site, clients)
        with pytest.raises(bt_dr.InvalidInput) as ei:
            bt_dr.plan_failover(site, clients, redirect={"cmd": ["swing-dns"]})
        assert "cmd" in str(ei.value) and ei.value.field == "failover options"
        # A badly typed value is refused without echoing the command (it may hold a key).
        with pytest.raises(bt_dr.InvalidInput) as ei:
            bt_dr.execute_failover(site, clients, plan, redirect={"command": ["swing", "--key", "k3y-Secret"], "timeout_ms": "soon"})
        assert all("k3y-Secret" not in t for t in error_texts(ei.value))
        with pytest.raises(bt_dr.InvalidInput):
            bt_dr.execute_failover(site, clients, plan, redirect=[])
        with pytest.raises(bt_dr.InvalidInput):
            bt_dr.execute_failover(site, clients, plan, site_url="ftp://support.example.com")
        for bad in (float("nan"), -1.0, 0):
            with pytest.raises(bt_dr.InvalidInput):
                bt_dr.execute_failover(site, clients, plan, confirm_timeout=bad)
        with pytest.raises(bt_dr.InvalidInput):
            bt_dr.execute_failover(site, clients, plan, redirect_timeout=5)
    assert [x["role"] for x in sim.state()] == ["primary", "backup"]


# ---------------------------------------------------------------- retention, thresholds, sites


def test_version_aware_retention() -> None:
    t = dt.datetime(2026, 11, 20, 2, tzinfo=dt.timezone.utc)
    sets = [
        bt_dr.RetentionCandidate(id="c", created_at=t, verified=True, version="24.3.0"),
        bt_dr.RetentionCandidate(id="b", created_at=t - dt.timedelta(days=1), verified=True, version="24.1.2"),
        bt_dr.RetentionCandidate(id="a", created_at=t - dt.timedelta(days=2), verified=True, version="23.2.1"),
    ]
    plan = bt_dr.plan_retention(None, "s", keep_last=1, sets=sets)
    assert [k.id for k in plan.keep] == ["c", "b"] and plan.remove == ["a"]
    assert "version 24.1.2" in plan.keep[1].reasons
    three = bt_dr.plan_retention(None, "s", bt_dr.RetentionPolicy(keep_last=1, keep_versions=3), sets=sets)
    assert [k.id for k in three.keep] == ["c", "b", "a"]
    off = bt_dr.plan_retention(None, "s", {"keep_last": 1, "keep_versions": 0}, sets=[s.to_dict() for s in sets])
    assert [k.id for k in off.keep] == ["c"]
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.plan_retention(None, "s", keep_versions=2, sets=sets)


def inventory_text(sim: Sim, thresholds: str) -> str:
    assert sim.backup_url is not None
    return f"""
{thresholds}
[[sites]]
name = "support"
fqdn = "{sim.info['site_hostname']}"
product = "rs"
version = "{sim.info['version']}"
custom_certificate = true
custom_tls = false
appliances = [{{ hostname = "bt-a.example.com", kind = "b300", api_url = "{sim.primary_url}" }}]
api = {{ client_id = "{sim.client_id}", client_secret_env = "{SECRET_ENV}", ca_file = "{sim.ca_file}" }}
"""


def test_inventory_thresholds_reach_the_audit(sim: Sim, secret_env: None, tmp_path: Path) -> None:
    inv = bt_dr.load_inventory(inventory_text(sim, "[thresholds]\nmax_backup_age_hours = 2\ncertificate_horizon_days = 45\n"))
    assert inv.thresholds.max_backup_age_hours == 2 and inv.thresholds.certificate_horizon_days == 45
    assert inv.thresholds.min_rsa_bits == 2048  # the core's default, filled in by the core
    site = inv.sites[0]
    assert site.custom_certificate and not site.custom_tls
    assert bt_dr.Inventory.from_dict(json.loads(json.dumps(inv.to_dict()))) == inv
    with bt_dr.Client.for_appliance(site, "bt-a.example.com") as c:
        bt_dr.run_backup_set(tmp_path, site, c, {"recordings": False})
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=3)
    assert "backup_stale" in bt_dr.audit(inv, store=tmp_path, now=later).finding_ids()
    # A call's override wins; without the table the core's default (26 h) applies.
    assert "backup_stale" not in bt_dr.audit(inv, store=tmp_path, now=later, max_backup_age_hours=48).finding_ids()
    default = bt_dr.load_inventory(inventory_text(sim, ""))
    assert default.thresholds.max_backup_age_hours == 26
    assert "backup_stale" not in bt_dr.audit(default, store=tmp_path, now=later).finding_ids()
    # A Python-built inventory leaves unset thresholds to the core.
    built = bt_dr.Inventory(sites=[site], thresholds=bt_dr.Thresholds(max_backup_age_hours=1))
    assert "backup_stale" in bt_dr.audit(built, store=tmp_path, now=later).finding_ids()
    with pytest.raises(bt_dr.InvalidInput) as ei:
        bt_dr.load_inventory(inventory_text(sim, "[thresholds]\nmin_rsa_bits = 512\n"))
    assert ei.value.field == "thresholds.min_rsa_bits"


def test_nsb_coverage_names_the_report_kinds() -> None:
    cov = bt_dr.nsb_coverage("rs")
    kinds = {e.id: e.report_kinds for e in cov.excluded}
    assert kinds["session_recordings"] == ["session_recording"]
    assert kinds["show_my_screen_recordings"] == ["show_my_screen_recording"]
    assert set(kinds["logged_history"]) == {"session_report", "customer_exit_survey", "rep_exit_survey"}
    assert kinds["certificates"] == []
    assert "presentation_recordings" not in {e.id for e in bt_dr.nsb_coverage("pra").excluded}
