"""The examples run against the simulator."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

from conftest import FIXTURE_PASS, FIXTURES, Sim
from test_ansible import write_inventory

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(args: List[str], env: Dict[str, str]) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def inventory_with_api(sim: Sim, path: Path) -> None:
    write_inventory(sim, path)
    path.write_text(
        path.read_text()
        + f'\n[sites.api]\nclient_id = "{sim.client_id}"\nclient_secret_env = "EXAMPLE_SECRET"\nca_file = "{sim.ca_file}"\n'
    )


def test_nightly_backup(sim: Sim, tmp_path: Path) -> None:
    inv = tmp_path / "fleet.toml"
    inventory_with_api(sim, inv)
    env = {"EXAMPLE_SECRET": sim.client_secret}
    first = run([str(EXAMPLES / "nightly_backup.py"), str(inv), str(tmp_path / "store")], env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "support: set " in first.stdout and "verified=True" in first.stdout
    # Both appliances' NSBs, and every kind of reporting data the simulated site has.
    assert "nsbs=2 reporting=10 " in first.stdout, first.stdout
    bad = run([str(EXAMPLES / "nightly_backup.py"), str(inv), str(tmp_path / "store")], {"EXAMPLE_SECRET": "nope"})
    assert bad.returncode == 1 and "FAILED (auth)" in bad.stdout


def test_nightly_backup_partial_set_exits_3(sim: Sim, tmp_path: Path) -> None:
    # The Reporting API answers 404 (as on an appliance without it): the recordings part fails,
    # the NSB is kept, and the job says so with its own exit status.
    inv = tmp_path / "fleet.toml"
    inventory_with_api(sim, inv)
    sim.fault(0, "reporting", "server_error", 404)
    out = run([str(EXAMPLES / "nightly_backup.py"), str(inv), str(tmp_path / "store")], {"EXAMPLE_SECRET": sim.client_secret})
    assert out.returncode == 3, out.stdout + out.stderr
    assert "support: PARTIAL set " in out.stdout and "part recordings FAILED" in out.stdout, out.stdout
    assert "partial sets (exit 3): support" in out.stdout


def test_check_certificates() -> None:
    env = {"BT_DR_P12_PASSPHRASE": FIXTURE_PASS}
    good = run(
        [str(EXAMPLES / "check_certificates.py"), "support.example.com", str(FIXTURES / "default_chain.p12"), str(FIXTURES / "legacy_chain.p12")],
        env,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "pair identical=True" in good.stdout
    bad = run([str(EXAMPLES / "check_certificates.py"), "support.example.com", str(FIXTURES / "expired.p12")], env)
    assert bad.returncode == 1 and "expired" in bad.stdout


def test_failover_drill(sim: Sim, tmp_path: Path) -> None:
    inv = tmp_path / "fleet.toml"
    inventory_with_api(sim, inv)
    env = {"EXAMPLE_SECRET": sim.client_secret}
    plan = run([str(EXAMPLES / "failover_drill.py"), str(inv), "support"], env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "bt-a.example.com -> bt-b.example.com" in plan.stdout
    assert "certificates: identical" in plan.stdout and "1. [redirect] " in plan.stdout, plan.stdout
    refused = run([str(EXAMPLES / "failover_drill.py"), str(inv), "support", "unplanned"], env)
    assert refused.returncode == 1 and "refused" in refused.stdout
    assert [a["role"] for a in sim.state()] == ["primary", "backup"]
