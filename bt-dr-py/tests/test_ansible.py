"""The bt_dr.sra Ansible collection: ``ansible-playbook`` runs ansible/tests/playbook.yml against
a simulator pair on localhost (connection local, this interpreter), and every module's
documentation parses."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from conftest import FIXTURES, Sim

HERE = Path(__file__).resolve().parent
ANSIBLE_DIR = HERE.parent / "ansible"
COLLECTION = ANSIBLE_DIR / "ansible_collections" / "bt_dr" / "sra"
MODULES = ["backup", "health_info", "failover", "cert_info", "audit_info"]


def tool(name: str) -> str:
    """An Ansible tool from this interpreter's environment (the venv `make test` builds)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        if os.environ.get("BT_DR_REQUIRE_ANSIBLE"):
            pytest.fail(f"{name} is not installed")
        pytest.skip(f"{name} is not installed")
    return found


def ansible_env(tmp_path: Path) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ANSIBLE_DIR),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    return env


def write_inventory(sim: Sim, path: Path) -> None:
    assert sim.backup_url is not None
    path.write_text(
        f"""
[[sites]]
name = "support"
fqdn = "{sim.info['site_hostname']}"
product = "rs"
version = "{sim.info['version']}"

[[sites.appliances]]
hostname = "bt-a.example.com"
kind = "b300"
api_url = "{sim.primary_url}"

[[sites.appliances]]
hostname = "bt-b.example.com"
kind = "vmware"
api_url = "{sim.backup_url}"

[sites.failover]
primary = "bt-a.example.com"
backup = "bt-b.example.com"
routing = "dns-swing"
"""
    )


def write_inputs(sim: Sim, d: Path) -> None:
    d.mkdir()
    (d / "vault.key").write_bytes(b"encrypted vault key bytes")
    for host in ("bt-a.example.com", "bt-b.example.com"):
        (d / f"{host}.toml").write_text(
            f"""
[identity]
hostname = "{host}"
appliance_version = "{sim.info['version']}"
serial = "SN-{host}"
base_version = "7.2.1"
system_time = "2026-11-20T02:00:00Z"
"""
        )


def test_playbook_against_the_simulator(fresh_sim: Sim, tmp_path: Path) -> None:
    playbook = tool("ansible-playbook")
    inventory = tmp_path / "fleet.toml"
    write_inventory(fresh_sim, inventory)
    inputs = tmp_path / "inputs"
    write_inputs(fresh_sim, inputs)
    extra = {
        "ansible_python_interpreter": sys.executable,
        "bt_inventory": str(inventory),
        "bt_store": str(tmp_path / "store"),
        "bt_empty_store": str(tmp_path / "empty-store"),
        "bt_site": "support",
        "bt_client_id": fresh_sim.client_id,
        "bt_client_secret": fresh_sim.client_secret,
        "bt_ca_file": fresh_sim.ca_file,
        "bt_primary_url": fresh_sim.primary_url,
        "bt_backup_url": fresh_sim.backup_url,
        "bt_p12_dir": str(FIXTURES),
        "bt_inputs": str(inputs),
        "bt_control_url": fresh_sim.control_url,
        "bt_site_url": fresh_sim.info["site_url"],
    }
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra))
    cmd: List[str] = [
        playbook,
        "-i",
        "localhost,",
        "-c",
        "local",
        str(ANSIBLE_DIR / "tests" / "playbook.yml"),
        "-e",
        f"@{vars_file}",
        "-v",
    ]
    proc = subprocess.run(cmd, env=ansible_env(tmp_path), capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "failed=0" in out
    # Secrets marked no_log never reach the output.
    assert fresh_sim.client_secret not in proc.stdout
    assert "fixture-pass" not in proc.stdout
    assert "nightly-backup-pass" not in proc.stdout
    # The partial set warned, naming the failed part.
    assert "part recordings failed" in out


@pytest.mark.parametrize("module", MODULES)
def test_module_documentation(module: str, tmp_path: Path) -> None:
    doc = tool("ansible-doc")
    proc = subprocess.run(
        [doc, "--json", f"bt_dr.sra.{module}"],
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)[f"bt_dr.sra.{module}"]
    options = data["doc"]["options"]
    assert data["examples"].strip() and data["return"]
    assert data["doc"]["attributes"]["check_mode"]["support"] == "full"
    for secret in ("client_secret", "backup_password", "certificate_passphrase", "passphrase", "pair_passphrase"):
        if secret in options:
            assert secret in source_no_log(module), f"{module}.{secret} must be no_log"


def source_no_log(module: str) -> List[str]:
    """Options declared with no_log=True in the module or the shared module_utils."""
    names = []
    for path in (COLLECTION / "plugins" / "modules" / f"{module}.py", COLLECTION / "plugins" / "module_utils" / "common.py"):
        for line in path.read_text().splitlines():
            if "no_log=True" in line and "=dict(" in line:
                names.append(line.strip().split("=dict(")[0])
    return names


def test_missing_bt_dr_gives_missing_required_lib(tmp_path: Path) -> None:
    """Without the bt_dr package the modules fail with Ansible's missing_required_lib message."""
    playbook = tool("ansible-playbook")
    # A Python without bt_dr: the same interpreter with the package hidden.
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "bt_dr.py").write_text("raise ImportError('bt_dr hidden for this test')\n")
    pb = tmp_path / "pb.yml"
    pb.write_text(
        """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - bt_dr.sra.cert_info:
        path: /nonexistent.p12
        passphrase: x
      register: r
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - r is failed
          - r.msg is search('Failed to import the required Python library \\\\(bt_dr\\\\)')
"""
    )
    env = ansible_env(tmp_path)
    env["PYTHONPATH"] = str(shim)
    proc = subprocess.run(
        [playbook, "-i", "localhost,", "-c", "local", str(pb), "-e", f"ansible_python_interpreter={sys.executable}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
