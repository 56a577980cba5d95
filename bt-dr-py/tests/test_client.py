"""The API client against the simulator pair."""

import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

import bt_dr

from conftest import Sim


def test_client_is_a_context_manager(sim: Sim) -> None:
    with sim.client() as c:
        assert not c.closed
        assert c.base_url == sim.primary_url
        assert c.host == "127.0.0.1"
        assert c.product == "rs"
        assert repr(c) == f"Client(base_url={sim.primary_url!r}, client_id={sim.client_id!r})"
        assert sim.client_secret not in repr(c)
        assert sim.client_secret not in repr(vars(c))
    assert c.closed
    assert "closed" in repr(c)
    with pytest.raises(bt_dr.InvalidInput):
        c.check_health()


def test_health_of_both_appliances(sim: Sim) -> None:
    roles = []
    for i in (0, 1):
        with sim.client(i) as c:
            h = c.check_health()
            assert h.success
            assert bt_dr.parse_version(h.version).release == "24.1.2"
            roles.append(h.failover_role)
            assert isinstance(h.last_data_sync_time, dt.datetime)
            assert json.loads(json.dumps(h.to_dict()))["failover_role"] == h.failover_role
    assert roles == ["primary", "backup"]


def test_probe_health(sim: Sim, client: bt_dr.Client) -> None:
    p = client.probe_health()
    assert (p.healthy, p.status, p.message) == (True, 200, "OK")
    assert p.peer_certificate_sha256 == sim.info["leaf_cert_sha256"]
    sim.control("/appliances/0/health", {"success": False, "error_message": "disk"})
    p = client.probe_health()
    assert not p.healthy and p.status == 500 and "disk" in p.message


def test_api_info_and_permissions(client: bt_dr.Client) -> None:
    info = client.get_api_info()
    assert info.api_version == "1.24.0"
    assert info.permissions.command == "full_access"
    assert info.permissions.backup
    assert info.missing_permission("download_backup") is None
    restricted = bt_dr.ApiInfo.from_dict({**info.to_dict(), "permissions": {**info.permissions.to_dict(), "backup": False}})
    assert restricted.missing_permission("download_backup") == "perm_backup"


def test_appliances_and_clients(client: bt_dr.Client) -> None:
    apps = client.get_appliances()
    assert [a.public_hostname for a in apps] == ["bt-a.example.com", "bt-b.example.com"]
    assert [a.failover_role for a in apps] == ["primary", "backup"]
    clients = client.get_connected_clients()
    assert {c.client_type for c in clients} >= {"representative", "support_customer"}


def test_download_backup_with_progress(client: bt_dr.Client, tmp_path: Path) -> None:
    calls: List[Tuple[int, Optional[int]]] = []
    b = client.download_backup(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert b.path.exists() and b.path.parent == tmp_path
    data = b.path.read_bytes()
    assert data.startswith(b"BTNSB")
    assert hashlib.sha256(data).hexdigest() == b.file.sha256 == b.sidecar.sha256
    assert b.file.size == len(data) == 1 << 20
    assert calls and calls[-1] == (len(data), len(data))
    assert all(a[0] <= b_[0] for a, b_ in zip(calls, calls[1:]))
    name = bt_dr.parse_backup_name(b.file.file_name)
    assert name.site == "support"
    side = json.loads(b.sidecar_path.read_text())
    assert side["sha256"] == b.file.sha256
    assert not b.sidecar.password_protected
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([b.file.file_name, b.sidecar_path.name])


def test_download_backup_retries_a_truncated_transfer(sim: Sim, client: bt_dr.Client, tmp_path: Path) -> None:
    sim.fault(0, "backup", "truncate_at", 1000, times=1)
    b = client.download_backup(str(tmp_path))
    assert b.file.size == 1 << 20
    assert len(list(tmp_path.iterdir())) == 2


def test_traversal_file_name_is_neutralised(sim: Sim, client: bt_dr.Client, tmp_path: Path) -> None:
    sim.fault(0, "backup", "traversal_filename", times=1)
    b = client.download_backup(tmp_path / "in")
    assert b.path.parent == tmp_path / "in"


def test_sessions_recordings_archives(client: bt_dr.Client, tmp_path: Path) -> None:
    sessions = client.list_sessions(bt_dr.TimeWindow.last_seconds(10 * 86400))
    assert len(sessions) == 3
    assert client.list_sessions({"type": "start_time", "unix": 0, "seconds": 0}) == sessions
    # Windows cross as the core's serde form: a date window goes over as `YYYY-MM-DD`; a shape
    # the core refuses is InvalidInput naming the window, before any request.
    month_ago = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=30)
    assert client.list_sessions(bt_dr.TimeWindow.start_date(month_ago)) == sessions
    for bad in ({"type": "sometime"}, {"type": "start_date", "date": "2026-01-01", "days": -1}, {"type": "lsid"}):
        with pytest.raises(bt_dr.InvalidInput, match="window"):
            client.list_sessions(bad)
    s = client.get_session(sessions[0].lsid)
    assert s.primary_rep == "Rep 1"
    rec = client.download_recording(s.lsid, tmp_path)
    assert rec.file_name.startswith(s.lsid) and rec.size == 65536
    assert rec.path.read_bytes().startswith(b"FLV")
    today = dt.datetime.now(dt.timezone.utc).date()
    archives = client.list_archives(today)
    assert {a.kind for a in archives} == {"state", "event"}
    f = client.download_archive("state", today, 1, tmp_path)
    assert json.loads(gzip.decompress(f.path.read_bytes()))
    with pytest.raises(bt_dr.InvalidInput):
        client.get_session("../etc")
    with pytest.raises(bt_dr.InvalidInput):
        client.list_sessions({"type": "lsids", "lsids": ["a"]})


def test_set_failover_role(fresh_sim: Sim) -> None:
    with fresh_sim.client(1) as backup:
        change = backup.set_failover_role("primary")
        assert "Successfully" in change.message
        assert not change.sync_started
        assert backup.check_health().failover_role == "primary"
    with fresh_sim.client(0) as old:
        assert old.check_health().failover_role == "backup"
        with pytest.raises(bt_dr.InvalidInput):
            old.set_failover_role("none")
