"""The README's Python and Ansible quickstarts, executed against the simulator."""

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from conftest import Sim
from test_ansible import ANSIBLE_DIR, ansible_env, tool

README = Path(__file__).resolve().parents[1] / "README.md"

def blocks(lang: str) -> List[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)

@pytest.fixture
def quickstart_env(sim: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, str]]:
    values = {
        "BT_DR_URL": sim.primary_url,
        "BT_DR_CLIENT_ID": sim.client_id,
        "BT_DR_CLIENT_SECRET": sim.client_secret,
        "BT_DR_CA_FILE": sim.ca_file,
        "BT_DR_STORE": str(tmp_path / "store"),
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    yield values

def test_python_quickstart(quickstart_env: Dict[str, str]) -> None:
    code = blocks("python")
    assert len(code) == 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code[0], str(README), "exec"), {"__name__": "__readme__"})
    text = out.getvalue()
    assert "bt-a.example.com: 24.1.2" in text
    assert "sha256=" in text
    assert "untested - " in text  # older and not in an upgrade table
    assert "session_recordings" in text
    assert "auth {" in text
    assert quickstart_env["BT_DR_CLIENT_SECRET"] not in text

def test_ansible_quickstart(quickstart_env: Dict[str, str], tmp_path: Path) -> None:
    playbook = tool("ansible-playbook")
    yaml = blocks("yaml")
    assert len(yaml) == 1
    site = tmp_path / "site.yml"
    site.write_text(yaml[0])

    env = ansible_env(tmp_path)
    env.update(quickstart_env)
    proc = subprocess.run(
        [playbook, "-i", "localhost,", str(site), "-e", f"ansible_python_interpreter={sys.executable}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(ANSIBLE_DIR.parent),
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "verified=True" in out
    assert quickstart_env["BT_DR_CLIENT_SECRET"] not in out
    assert list(Path(quickstart_env["BT_DR_STORE"]).glob("support/sets/*/manifest.json"))
    assert os.path.isdir(quickstart_env["BT_DR_STORE"])
