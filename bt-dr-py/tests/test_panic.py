"""Issue 12 item 6: a Rust panic never escapes as pyo3's ``PanicException`` (a
``BaseException`` that ``except BtDrError`` and ``except Exception`` miss): it arrives as
``bt_dr.InternalError``, a ``BtDrError``. Inputs that used to panic are typed errors."""

import json
import os
import subprocess
import sys
from typing import Any, Dict, Iterator

import pytest

import bt_dr
from bt_dr import _native

from conftest import FIXTURE_PASS, FIXTURES

# The native module's hidden test hook (not in the stubs, the docs or the package).
_panic_for_test: Any = getattr(_native, "_panic_for_test")


@pytest.fixture
def armed() -> Iterator[None]:
    os.environ["BT_DR_TEST_PANIC"] = "1"
    try:
        yield
    finally:
        del os.environ["BT_DR_TEST_PANIC"]


def test_internal_error_is_in_the_hierarchy() -> None:
    assert issubclass(bt_dr.InternalError, bt_dr.BtDrError)
    assert issubclass(bt_dr.InternalError, Exception)
    assert bt_dr.InternalError.kind == "internal"
    assert bt_dr.exception_class("internal") is bt_dr.InternalError
    assert ("internal", "InternalError") in bt_dr.error_kinds()
    assert "InternalError" in bt_dr.__all__


def test_a_panic_is_an_internal_error(armed: None) -> None:
    try:
        _panic_for_test("boom in rust")
    except bt_dr.BtDrError as e:  # what Ansible modules catch
        assert type(e) is bt_dr.InternalError
        assert e.kind == "internal"
        assert "boom in rust" in e.message
        assert e.details["kind"] == "internal"
    else:
        pytest.fail("no exception")


def test_a_panic_on_a_worker_thread_is_an_internal_error(armed: None) -> None:
    with pytest.raises(bt_dr.InternalError, match="on a thread"):
        _panic_for_test("on a thread", on_thread=True)


def test_the_panic_hook_is_refused_unless_armed() -> None:
    assert "BT_DR_TEST_PANIC" not in os.environ
    with pytest.raises(bt_dr.InvalidInput):
        _panic_for_test("x")
    assert not hasattr(bt_dr, "_panic_for_test")


def test_no_panic_exception_reaches_python(armed: None) -> None:
    """In a fresh interpreter, ``except Exception`` is enough for a panic."""
    code = (
        "import bt_dr\n"
        "from bt_dr import _native\n"
        "try:\n"
        "    getattr(_native, '_panic_for_test')('x')\n"
        "except Exception as e:\n"
        "    print(type(e).__name__)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "InternalError"
    assert "PanicException" not in r.stderr


def _report() -> Dict[str, Any]:
    r = bt_dr.check_certificate_bundle(FIXTURES / "default_chain.p12", FIXTURE_PASS)
    d: Dict[str, Any] = json.loads(json.dumps(r._native()))
    return d


def test_pair_check_with_an_out_of_range_leaf_is_invalid_input() -> None:
    good = _report()
    for field, bad in [
        ("primary.leaf", dict(good, leaf=99)),
        ("primary.leaf", dict(good, leaf=len(good["certificates"]))),
        ("primary.chain", dict(good, chain=[0, 42])),
    ]:
        with pytest.raises(bt_dr.InvalidInput) as ei:
            bt_dr.check_certificate_pair(bad, good)
        assert ei.value.field == field
    assert bt_dr.check_certificate_pair(good, good).identical


def test_pair_check_with_a_short_sha256_is_invalid_input() -> None:
    good = _report()
    for sha in ["ab", "", "é" * 12, "z" * 64]:
        bad = json.loads(json.dumps(good))
        bad["certificates"][good["leaf"]]["sha256"] = sha
        with pytest.raises(bt_dr.InvalidInput):
            bt_dr.check_certificate_pair(good, bad)
        with pytest.raises(bt_dr.InvalidInput):
            bt_dr.check_certificate_pair(bad, good)
