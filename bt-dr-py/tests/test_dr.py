"""DR operations against the simulator: backup sets, verify, retention, backup job, audit,
runbook and the failover drill."""

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

import bt_dr

from conftest import FIXTURE_PASS, FIXTURES, Sim

SECRET_ENV = "BT_DR_PYTEST_SECRET"


def site_of(sim: Sim, name: str = "support") -> bt_dr.Site:
    """An inventory site matching the simulator pair (appliances reached at its ports)."""
    assert sim.backup_url is not None
    return bt_dr.Site.from_dict(
        {
            "name": name,
            "fqdn": sim.info["site_hostname"],
            "product": "rs",
            "version": sim.info["version"],
            "appliances": [
                {"hostname": "bt-a.example.com", "kind": "b300", "serial": "B300-0001", "ip": "10.0.0.11", "api_url": sim.primary_url},
                {"hostname": "bt-b.example.com", "kind": "vmware", "ip": "10.0.0.12", "api_url": sim.backup_url},
            ],
            "failover": {"primary": "bt-a.example.com", "backup": "bt-b.example.com", "routing": "dns-swing"},
            "api": {"client_id": sim.client_id, "client_secret_env": SECRET_ENV, "ca_file": sim.ca_file},
        }
    )


def record_file(d: Path, host: str, version: str) -> Path:
    p = d / f"{host}.toml"
    p.write_text(
        f"""
[identity]
hostname = "{host}"
appliance_version = "{version}"
serial = "SN-{host}"
base_version = "7.2.1"
system_time = "2026-11-20T02:00:00Z"
[[ip_configuration]]
name = "eth0"
addresses = ["10.0.0.11/24"]
gateway = "10.0.0.1"
dns_servers = ["10.0.0.2"]
"""
    )
    return p


def full_options(sim: Sim, inputs: Path) -> bt_dr.BackupSetOptions:
    key = inputs / "vault.key"
    key.write_bytes(b"encrypted vault key bytes")
    return bt_dr.BackupSetOptions(
        certificate_bundle=FIXTURES / "default_chain.p12",
        certificate_passphrase=FIXTURE_PASS,
        appliance_records=(
            record_file(inputs, "bt-a.example.com", sim.info["version"]),
            record_file(inputs, "bt-b.example.com", sim.info["version"]),
        ),
        vault_key=key,
        vault_key_password_protected=True,
        backup_password="nightly-backup-pass",
    )


@pytest.fixture
def secret_env(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, sim.client_secret)
    yield


def test_backup_set_verify_list_and_retention(sim: Sim, secret_env: None, tmp_path: Path) -> None:
    store, inputs = tmp_path / "store", tmp_path / "in"
    inputs.mkdir()
    site = site_of(sim)
    opts = full_options(sim, inputs)
    assert FIXTURE_PASS not in repr(opts)
    clients = bt_dr.Client.for_pair(site)
    assert list(clients) == ["bt-a.example.com", "bt-b.example.com"]
    primary = clients["bt-a.example.com"]
    seen: List[int] = []
    first = bt_dr.run_backup_set(store, site, primary, opts, progress=lambda d, t: seen.append(d))
    assert seen and seen[-1] == 1 << 20
    m = first.manifest
    assert m.site == "support" and m.nsb.file.endswith(".nsb")
    kinds = {f.kind for f in m.files}
    assert {"nsb", "sidecar", "certificate_bundle", "appliance_record", "vault_key"} <= kinds
    assert m.vault_key is not None and m.vault_key.password_protected
    assert m.certificate is not None and m.certificate.findings == []
    assert len(m.appliance_records) == 2
    # Reporting data lives in the site's archive; the manifest refers to it (3 sessions, every
    # kind the simulated RS site has).
    assert m.recordings is not None and m.recordings.count == len(m.reporting) == 10
    assert {k.kind: (k.status, k.count) for k in m.recordings.kinds} == {
        "session_report": ("ok", 3),
        "session_recording": ("ok", 3),
        "show_my_screen_recording": ("ok", 1),
        "command_shell_recording": ("ok", 1),
        "presentation_recording": ("ok", 0),
        "customer_exit_survey": ("ok", 1),
        "rep_exit_survey": ("ok", 1),
    }
    recordings = m.reporting_of("session_recording")
    assert len(recordings) == 3 and all(r.lsid for r in recordings)
    for r in m.reporting:
        assert r.path.startswith(f"reporting/{r.kind}/")
        on_disk = store / "support" / r.path
        assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == r.sha256 and on_disk.stat().st_size == r.size
    assert not any(f.path.startswith("recordings") for f in m.files)
    assert first.path.is_dir() and (first.path / "manifest.json").exists()
    assert "BackupSetReport(site='support'" in repr(first)
    assert json.loads(json.dumps(first.to_dict()))["set_id"] == first.set_id

    report = bt_dr.verify_backup_set(first.path)
    # The set's files and the archive files it refers to.
    assert report.ok and report.problems == [] and report.files_checked == len(m.files) + len(m.reporting)

    # A second set (recordings: none new since the checkpoint).
    second = bt_dr.run_backup_set(str(store), site.to_dict(), primary, {"recordings": True})
    sets = bt_dr.list_backup_sets(store, "support")
    assert [s.id for s in sets] == [second.set_id, first.set_id]
    assert bt_dr.parse_version(sets[0].manifest.site_version).release == sim.info["version"]

    # Corrupt the older one: verify names the file.
    nsb = first.path / first.manifest.nsb.file
    nsb.write_bytes(b"tampered")
    bad = bt_dr.verify_backup_set(first.path)
    assert not bad.ok
    assert [(p.path, p.problem) for p in bad.problems] == [(first.manifest.nsb.file, "size_mismatch")]

    plan = bt_dr.plan_retention(store, "support", keep_last=1)
    assert [k.id for k in plan.keep] == [second.set_id]
    assert plan.remove == [first.set_id]
    assert bt_dr.apply_retention(store, plan) == [first.set_id]
    assert [s.id for s in bt_dr.list_backup_sets(store, site)] == [second.set_id]
    # The newest verified set is never removed.
    forced = bt_dr.RetentionPlan(site="support", keep=[], remove=[second.set_id])
    with pytest.raises(bt_dr.Refused):
        bt_dr.apply_retention(store, forced)
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.plan_retention(store, "support")
    for c in clients.values():
        c.close()


def test_retention_from_candidates() -> None:
    t = dt.datetime(2026, 11, 20, 2, tzinfo=dt.timezone.utc)
    sets = [
        bt_dr.RetentionCandidate(id=f"s{i}", created_at=t - dt.timedelta(days=i), verified=True)
        for i in range(5)
    ]
    plan = bt_dr.plan_retention(None, "support", bt_dr.RetentionPolicy(keep_daily=2), sets=sets)
    assert [k.id for k in plan.keep] == ["s0", "s1"]
    assert plan.remove == ["s2", "s3", "s4"]
    assert any("daily" in r for r in plan.keep[0].reasons)


def test_backup_set_stopped_by_progress_exception_leaves_nothing(sim: Sim, secret_env: None, tmp_path: Path) -> None:
    sim.fault(0, "backup", "slow_body", 256 * 1024)
    site = site_of(sim)

    def stop(done: int, total: Optional[int]) -> None:
        if done > 32 * 1024:
            raise KeyboardInterrupt

    with bt_dr.Client.for_appliance(site, "bt-a.example.com") as c:
        with pytest.raises(KeyboardInterrupt):
            bt_dr.run_backup_set(tmp_path, site, c, {"recordings": False}, progress=stop)
    assert bt_dr.list_backup_sets(tmp_path, "support") == []
    leftovers = [p.name for p in (tmp_path / "support" / "sets").iterdir()]
    assert leftovers == []


def test_backup_job_with_a_failing_site(sim: Sim, secret_env: None, tmp_path: Path) -> None:
    good, other = site_of(sim, "support"), site_of(sim, "support2")
    with sim.client() as c1, sim.client() as c2, sim.client(client_secret="wrong-secret-zz") as bad:
        report = bt_dr.run_backup_job(
            tmp_path,
            [
                (good, c1, {"recordings": False}),
                (other, c2, None),
                (site_of(sim, "support3"), bad, None),
            ],
            concurrency=2,
        )
    assert [s.site for s in report.sites] == ["support", "support2", "support3"]
    assert [s.ok for s in report.sites] == [True, True, False]
    failed = report.failed
    assert len(failed) == 1 and failed[0].error is not None and failed[0].error["kind"] == "auth"
    assert "wrong-secret-zz" not in json.dumps(report.to_dict())
    assert bt_dr.exception_class(failed[0].error["kind"]) is bt_dr.AuthError


def test_backup_job_concurrency_defaults_to_the_core(sim: Sim, secret_env: None, tmp_path: Path) -> None:
    # No `concurrency`: the core's DEFAULT_JOB_CONCURRENCY, not a number written in the binding.
    assert bt_dr.DEFAULT_JOB_CONCURRENCY == 4
    assert bt_dr.run_backup_job(tmp_path, []).sites == []
    with sim.client() as c:
        report = bt_dr.run_backup_job(tmp_path, [(site_of(sim, "support"), c, {"recordings": False})])
    assert [s.ok for s in report.sites] == [True]


def test_audit_ready_and_broken(sim: Sim, secret_env: None, tmp_path: Path) -> None:
    store, inputs = tmp_path / "store", tmp_path / "in"
    inputs.mkdir()
    site = site_of(sim)
    inventory = bt_dr.Inventory(sites=[site])
    clients = bt_dr.Client.for_pair(site)
    bt_dr.run_backup_set(store, site, clients["bt-a.example.com"], full_options(sim, inputs))
    live = bt_dr.collect_live(site, clients)
    assert [a.hostname for a in live.appliances] == ["bt-a.example.com", "bt-b.example.com"]
    assert all(a.served_cert_sha256 for a in live.appliances)
    ready = bt_dr.audit(inventory, store=store, live=[live])
    assert ready.findings == [], ready.to_markdown()
    assert ready.schema == "bt-dr.audit/1" and ready.worst is None
    assert "Ready: no findings" in ready.to_markdown()

    # No store at all for another site; split brain live.
    sim.set_role(1, "primary")
    split = bt_dr.collect_live(site, clients)
    empty = tmp_path / "empty"
    broken = bt_dr.audit(inventory.to_dict(), store=empty, live=[split.to_dict()])
    ids = broken.finding_ids()
    assert "no_backup" in ids and "split_brain" in ids
    assert broken.worst == "critical"
    assert broken.summary.critical >= 2
    assert broken.with_id("split_brain")[0].site == "support"
    assert "split_brain" in broken.to_markdown()
    assert bt_dr.severity_at_least(broken.findings[0].severity, "error")
    for c in clients.values():
        c.close()


def test_runbook(sim: Sim, secret_env: None, tmp_path: Path) -> None:
    site = site_of(sim)
    md = bt_dr.render_runbook(site)
    assert md.startswith("# Recovery runbook") and "bt-a.example.com" in md
    assert "No backup set exists" in md
    with bt_dr.Client.for_appliance(site, "bt-a.example.com") as c:
        rep = bt_dr.run_backup_set(tmp_path, site, c, {"recordings": False})
    md2 = bt_dr.render_runbook(site.to_dict(), store=tmp_path, upgrade_table={"releases": []})
    assert rep.manifest.nsb.file in md2


def test_planned_failover_drill(fresh_sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, fresh_sim.client_secret)
    site = site_of(fresh_sim)
    clients = bt_dr.Client.for_pair(site, retry={"initial_backoff": 0.02, "max_backoff": 0.1})
    plan = bt_dr.plan_failover(site, clients, "planned")
    assert plan.from_.hostname == "bt-a.example.com" and plan.to.hostname == "bt-b.example.com"
    assert plan.connected_clients and plan.connected_clients > 0
    assert plan.steps and any(s.automated for s in plan.steps)
    assert plan.to_dict()["from"]["hostname"] == "bt-a.example.com"
    # Planning changed nothing.
    assert [a["role"] for a in fresh_sim.state()] == ["primary", "backup"]
    with pytest.raises(bt_dr.Refused):
        bt_dr.plan_failover(site, clients, "unplanned")
    timeline = bt_dr.execute_failover(site, clients, plan.to_dict(), settle_timeout=10, poll_interval=0.05)
    assert timeline.outcome == "settled", timeline
    # The guide's order: redirect (a person's DNS swing), role change, settle, confirm clients.
    steps = [e.step for e in timeline.events]
    assert steps.index("redirect") < steps.index("role_change") < steps.index("settle") < steps.index("confirm"), steps
    assert [e for e in timeline.events if e.step == "settle"][-1].to_role == "primary"
    assert timeline.confirmation is not None and timeline.confirmation.connected_clients
    assert any("DNS" in s for s in timeline.follow_up)
    assert [a["role"] for a in fresh_sim.state()] == ["backup", "primary"]
    for c in clients.values():
        c.close()


def test_client_for_appliance_needs_the_secret(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    site = site_of(sim)
    with pytest.raises(bt_dr.InvalidInput) as ei:
        bt_dr.Client.for_appliance(site, "bt-a.example.com")
    # The core's error: the inventory field, and the variable by name.
    assert ei.value.field == f"sites[{site.name}].api.client_secret_env"
    assert SECRET_ENV in str(ei.value)
    with pytest.raises(bt_dr.NotFound):
        bt_dr.Client.for_appliance(site, "nope.example.com", client_secret="x")
    with bt_dr.Client.for_appliance(site, "BT-B.example.com", client_secret=sim.client_secret) as c:
        assert c.check_health().failover_role == "backup"


def test_unplanned_failover_with_primary_state_unknown_needs_force(fresh_sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    # The primary is up and serving, but rejects our credentials: its state is unknown, not
    # unreachable. An unplanned failover is refused unless forced, at planning and again at
    # execution (which plans afresh).
    monkeypatch.setenv(SECRET_ENV, fresh_sim.client_secret)
    site = site_of(fresh_sim)
    retry = {"max_attempts": 1, "initial_backoff": 0.01, "max_backoff": 0.05}
    clients = {
        "bt-a.example.com": fresh_sim.client(0, client_secret="wrong-secret", retry=retry),
        "bt-b.example.com": fresh_sim.client(1, retry=retry),
    }
    with pytest.raises(bt_dr.Refused) as ei:
        bt_dr.plan_failover(site, clients, "unplanned")
    assert "state unknown" in str(ei.value)
    plan = bt_dr.plan_failover(site, clients, "unplanned", force_unknown=True)
    assert plan.from_.hostname == "bt-a.example.com" and plan.to.hostname == "bt-b.example.com"
    assert plan.from_.reachability == "unknown" and plan.from_.state_unknown and not plan.from_.reachable
    assert isinstance(plan.from_.error, bt_dr.ErrorReport)
    assert plan.from_.error.kind == "auth" and plan.from_.error["kind"] == "auth"
    assert plan.from_.error.exception() is bt_dr.AuthError
    assert plan.to.reachability == "reachable" and plan.to.error is None
    assert any("force_unknown" in w for w in plan.warnings), plan.warnings
    # The dict form round-trips (ErrorReport back to its dict).
    d = plan.to_dict()
    assert d["from"]["error"]["kind"] == "auth" and d["from"]["reachability"] == "unknown"
    assert bt_dr.FailoverPlan.from_dict(d) == plan
    with pytest.raises(bt_dr.Refused):
        bt_dr.execute_failover(site, clients, plan, settle_timeout=5, poll_interval=0.05)
    assert [a["role"] for a in fresh_sim.state()] == ["primary", "backup"]
    timeline = bt_dr.execute_failover(
        site, clients, plan, settle_timeout=5, poll_interval=0.05, force_unknown=True, demote_old_primary=False
    )
    assert fresh_sim.state()[1]["role"] == "primary"
    # bt-dr demoted nothing by itself (the simulated pair moved the old primary to backup when
    # its peer was promoted, as a connected pair does).
    assert not any("demoted" in e.event for e in timeline.events), timeline
    for c in clients.values():
        c.close()


def test_error_report_reads_older_plans() -> None:
    # Older plans carried `error` as a bare message.
    state = bt_dr.ApplianceState.from_dict(
        {"hostname": "a", "reachable": False, "healthy": False, "role": None, "error": "connection refused"}
    )
    assert isinstance(state.error, bt_dr.ErrorReport) and state.error.message == "connection refused"
    assert state.reachability == "unknown" and state.probe_error is None


def test_retention_plan_without_floor_keeps_the_core_default(sim: Sim, secret_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A plan built in Python or loaded from an older dict has no `min_nsb_bytes`: the core's
    # floor (16 KiB) must apply, not 0 (which made a newer tiny-NSB set the protected one and
    # let the older real backup be removed).
    bare = bt_dr.RetentionPlan(site="support", keep=[], remove=[])
    assert bare.min_nsb_bytes is None and "min_nsb_bytes" not in bare._native()
    assert bt_dr.RetentionPlan.from_dict({"site": "support", "keep": [], "remove": []}).min_nsb_bytes is None
    store = tmp_path / "store"
    site = site_of(sim)
    with bt_dr.Client.for_appliance(site, "bt-a.example.com") as c:
        big = bt_dr.run_backup_set(store, site, c, {"recordings": False})
    tiny_sim = Sim("--backup-size", "2000")
    try:
        monkeypatch.setenv(SECRET_ENV, tiny_sim.client_secret)
        tiny_site = site_of(tiny_sim)
        with bt_dr.Client.for_appliance(tiny_site, "bt-a.example.com") as c:
            tiny = bt_dr.run_backup_set(store, tiny_site, c, {"recordings": False})
    finally:
        tiny_sim.stop()
    assert [s.id for s in bt_dr.list_backup_sets(store, "support")] == [tiny.set_id, big.set_id]
    assert bt_dr.verify_backup_set(tiny.path).ok
    # The core's own plan protects the real backup.
    plan = bt_dr.plan_retention(store, "support", keep_last=1)
    assert plan.min_nsb_bytes == 16 * 1024
    assert big.set_id in [k.id for k in plan.keep] and big.set_id not in plan.remove
    for p in (
        bare.__class__(site="support", keep=[], remove=[big.set_id]),
        {"site": "support", "keep": [], "remove": [big.set_id]},
        {"site": "support", "keep": [], "remove": [big.set_id], "min_nsb_bytes": None},
    ):
        with pytest.raises(bt_dr.Refused):
            bt_dr.apply_retention(store, p)
    # Only an explicit floor of 0 turns it off (what the old default did silently).
    off = bt_dr.RetentionPlan(site="support", keep=[], remove=[big.set_id], min_nsb_bytes=0)
    assert off._native()["min_nsb_bytes"] == 0
    assert bt_dr.apply_retention(store, off) == [big.set_id]


@pytest.mark.parametrize("demote", [False, True])
def test_settle_demotes_the_old_primary_only_when_asked(fresh_sim: Sim, demote: bool) -> None:
    # The old primary is down when the backup is promoted and comes back (still claiming
    # primary) before the first poll: both are primary during the settle loop. bt-dr demotes it
    # only with demote_old_primary=True; otherwise the outcome is split_brain and it is left alone.
    import threading
    import time

    site = site_of(fresh_sim)
    # A slow first retry on the old primary gives it time to come back before the first poll.
    a = fresh_sim.client(0, retry={"initial_backoff": 0.4, "max_backoff": 0.4, "max_attempts": 3})
    b = fresh_sim.client(1, retry={"initial_backoff": 0.02, "max_backoff": 0.1})
    clients = {"bt-a.example.com": a, "bt-b.example.com": b}
    fresh_sim.set_down(0, True)
    plan = bt_dr.plan_failover(site, clients, "unplanned")
    assert plan.from_.reachability == "unreachable" and plan.from_.probe_error is not None
    stop = threading.Event()

    def bring_back_when_promoted() -> None:
        while not stop.is_set():
            if fresh_sim.state()[1]["role"] == "primary":
                fresh_sim.set_down(0, False)
                return
            time.sleep(0.002)

    watcher = threading.Thread(target=bring_back_when_promoted)
    watcher.start()
    try:
        timeline = bt_dr.execute_failover(
            site, clients, plan, settle_timeout=1.5, poll_interval=0.05, demote_old_primary=demote
        )
    finally:
        stop.set()
        watcher.join()
    demoted = [e.event for e in timeline.events if "demoted" in e.event]
    roles = [x["role"] for x in fresh_sim.state()]
    if demote:
        assert timeline.outcome == "settled", timeline
        assert demoted and demoted[0].startswith("bt-a.example.com"), timeline
        assert roles == ["backup", "primary"]
    else:
        assert any(e.event == "both primary" for e in timeline.events), timeline
        assert timeline.outcome == "split_brain", timeline
        assert demoted == []
        assert roles == ["primary", "primary"]
        assert any("bt-a.example.com" in s and "by hand" in s for s in timeline.follow_up), timeline.follow_up
    for c in clients.values():
        c.close()
