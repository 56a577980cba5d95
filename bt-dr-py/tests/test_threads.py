"""Blocking calls release the GIL; Ctrl-C and exceptions stop a download without a partial file."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import bt_dr

from conftest import Sim

SIZE = 1 << 20


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT raises ``KeyboardInterrupt`` during the test, then the previous handler is back.

    A shell starts background jobs (``nohup make test &``, cron) with SIGINT ignored, and
    Python then keeps it ignored: a Ctrl-C test must install the handler it relies on.
    """
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    previous: Any = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def test_background_start_with_sigint_ignored() -> None:
    """Issue 12 item 13: started the way ``nohup make test &`` or cron start it (SIGINT ignored,
    inherited by Python), the Ctrl-C tests still pass because they set their handler."""
    if sys.platform == "win32":
        pytest.skip("POSIX signal dispositions")

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__, "-k", "ctrl_c"],
        cwd=Path(__file__).parent,
        preexec_fn=ignore_sigint,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed" in r.stdout, r.stdout


def test_two_threads_download_in_parallel(sim: Sim, tmp_path: Path) -> None:
    rate = 512 * 1024  # 1 MiB takes about 2 s at this rate
    sim.fault(0, "backup", "slow_body", rate)
    spans: Dict[str, Tuple[float, float]] = {}
    errors: List[BaseException] = []

    def worker(name: str) -> None:
        try:
            with sim.client() as c:
                start = time.monotonic()
                b = c.download_backup(tmp_path / name)
                spans[name] = (start, time.monotonic())
                assert b.file.size == SIZE
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    began = time.monotonic()
    for t in threads:
        t.start()
    # While both download, this thread keeps running Python code: the GIL is free.
    ticks = 0
    while any(t.is_alive() for t in threads):
        ticks += 1
        time.sleep(0.01)
    wall = time.monotonic() - began
    assert not errors, errors
    each = [end - start for start, end in spans.values()]
    assert min(each) >= 1.5, f"the slow_body fault did not slow the downloads: {each}"
    (a0, a1), (b0, b1) = spans["a"], spans["b"]
    assert a0 < b1 and b0 < a1, "the downloads did not overlap"
    assert wall < 0.75 * sum(each), f"downloads ran one after the other: wall {wall:.2f}s, each {each}"
    assert ticks > 50


def _no_files(d: Path) -> List[str]:
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_exception_in_progress_callback_stops_and_cleans_up(sim: Sim, tmp_path: Path) -> None:
    sim.fault(0, "backup", "slow_body", 256 * 1024)
    seen: List[int] = []

    def progress(done: int, total: Optional[int]) -> None:
        seen.append(done)
        if done > 64 * 1024:
            raise RuntimeError("stop here")

    with sim.client() as c:
        with pytest.raises(RuntimeError, match="stop here"):
            c.download_backup(tmp_path, progress=progress)
    assert seen
    assert _no_files(tmp_path) == []


def test_ctrl_c_interrupts_a_slow_download(sim: Sim, tmp_path: Path, sigint_raises: None) -> None:
    sim.fault(0, "backup", "slow_body", 64 * 1024)  # would take 16 s
    progressed = threading.Event()
    timer = threading.Timer(0.8, lambda: os.kill(os.getpid(), signal.SIGINT))
    with sim.client() as c:
        started = time.monotonic()
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                c.download_backup(tmp_path, progress=lambda d, t: progressed.set())
        finally:
            timer.cancel()
        assert time.monotonic() - started < 5
    assert progressed.is_set()
    assert _no_files(tmp_path) == []


def test_ctrl_c_while_waiting_for_headers(sim: Sim, tmp_path: Path, sigint_raises: None) -> None:
    sim.fault(0, "backup", "delay", 10_000, times=1)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    with sim.client() as c:
        started = time.monotonic()
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                c.download_backup(tmp_path)
        finally:
            timer.cancel()
        assert time.monotonic() - started < 5
        # The client is still usable afterwards.
        assert c.probe_health().healthy
    assert _no_files(tmp_path) == []


def test_closing_from_another_thread_is_safe(sim: Sim, tmp_path: Path) -> None:
    c = sim.client()
    t = threading.Thread(target=c.close)
    t.start()
    t.join()
    with pytest.raises(bt_dr.InvalidInput):
        c.download_backup(tmp_path)
