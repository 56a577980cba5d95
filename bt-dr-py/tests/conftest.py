"""Fixtures: the bt-dr simulator (a failover pair over HTTPS) as a subprocess.

The binary comes from ``$BT_DR_SIM_BIN`` (set by ``make test-python``), else
``<repo>/target/debug/bt-dr-sim``; build it with ``make sim``.
"""

import json
import os
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

os.environ.setdefault("BT_DR_STRICT_MODELS", "1")

import bt_dr

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "bt-dr-core" / "tests" / "fixtures" / "p12"
FIXTURE_PASS = "fixture-pass"


def sim_binary() -> Path:
    env = os.environ.get("BT_DR_SIM_BIN")
    return Path(env) if env else REPO / "target" / "debug" / "bt-dr-sim"


class Sim:
    """A running simulator: URLs, credentials, CA file, and its control API."""

    def __init__(self, *args: str) -> None:
        binary = sim_binary()
        if not binary.exists():
            raise RuntimeError(f"simulator not built: {binary} (run `make sim`)")
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [str(binary), "--control-port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            self._log.seek(0)
            raise RuntimeError(f"simulator did not start: {self._log.read().decode(errors='replace')}")
        self.info: Dict[str, Any] = json.loads(line)
        self.primary_url: str = self.info["primary_url"]
        self.backup_url: Optional[str] = self.info["backup_url"]
        self.ca_file: str = self.info["ca_pem_path"]
        self.client_id: str = self.info["client_id"]
        self.client_secret: str = self.info["client_secret"]
        self.control_url: str = self.info["control_url"]

    def url(self, index: int) -> str:
        if index == 0:
            return self.primary_url
        assert self.backup_url is not None
        return self.backup_url

    def client(self, index: int = 0, **kwargs: Any) -> bt_dr.Client:
        opts: Dict[str, Any] = {"ca_file": self.ca_file, "site_name": "support"}
        opts.update(kwargs)
        secret = opts.pop("client_secret", self.client_secret)
        return bt_dr.Client(self.url(index), self.client_id, secret, **opts)

    def control(self, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.control_url + path,
            data=data,
            method="GET" if body is None else "POST",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    def fault(
        self,
        index: int,
        endpoint: str,
        fault: str,
        value: Any = None,
        times: Optional[int] = None,
    ) -> None:
        body: Dict[str, Any] = {"endpoint": endpoint, "fault": fault, "times": times}
        if value is not None:
            body["value"] = value
        self.control(f"/appliances/{index}/fault", body)

    def set_down(self, index: int, down: bool) -> None:
        self.control(f"/appliances/{index}/down", {"down": down})

    def set_role(self, index: int, role: str) -> None:
        self.control(f"/appliances/{index}/role", {"role": role})

    def state(self) -> List[Dict[str, Any]]:
        return list(self.control("/state")["appliances"])

    def reset(self) -> None:
        for i in range(len(self.state())):
            self.control(f"/appliances/{i}/clear_faults", {})
            self.set_down(i, False)
            self.control(f"/appliances/{i}/health", {"success": True})
        if self.backup_url is not None:
            self.set_role(0, "primary")
            self.set_role(1, "backup")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[Sim]:
    sim = Sim()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim(shared_sim: Sim) -> Iterator[Sim]:
    """The session's simulator pair, reset (no faults, both up, roles restored) after each test."""
    try:
        yield shared_sim
    finally:
        shared_sim.reset()


@pytest.fixture
def fresh_sim() -> Iterator[Sim]:
    """A simulator pair of its own, for tests that change roles or take appliances down."""
    sim = Sim()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def client(sim: Sim) -> Iterator[bt_dr.Client]:
    with sim.client() as c:
        yield c
