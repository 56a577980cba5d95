"""Issue 12 item 12: no secret (client secret, backup password, p12 passphrase) appears in any
text of an error: ``str``, ``repr``, ``args``, ``message``, ``details`` (also as JSON) and the
detail attributes."""

import json
from pathlib import Path
from typing import Any, List

import pytest

import bt_dr

from conftest import FIXTURES, Sim

BACKUP_PASSWORD = "bk-pass-Zq8x-4471"
P12_PASSPHRASE = "p12-pass-Wd81-secret"
WRONG_SECRET = "wrong-secret-Kx93-value"


def error_texts(e: BaseException) -> List[str]:
    out = [str(e), repr(e), repr(e.args)]
    if isinstance(e, bt_dr.BtDrError):
        out += [e.message, repr(e.details), json.dumps(e.details, default=str), repr(vars(e))]
    return out


def assert_no_secret(e: BaseException, *secrets: str) -> None:
    assert isinstance(e, bt_dr.BtDrError), repr(e)
    for text in error_texts(e):
        for s in secrets:
            assert s not in text, f"secret {s!r} leaked in {text!r}"


def test_wrong_client_secret(sim: Sim, tmp_path: Path) -> None:
    with sim.client(client_secret=WRONG_SECRET) as c:
        with pytest.raises(bt_dr.AuthError) as ei:
            c.check_health()
        assert_no_secret(ei.value, WRONG_SECRET, sim.client_secret)
        with pytest.raises(bt_dr.AuthError) as ei:
            c.download_backup(tmp_path, password=BACKUP_PASSWORD)
        assert_no_secret(ei.value, WRONG_SECRET, sim.client_secret, BACKUP_PASSWORD)
        assert WRONG_SECRET not in repr(c)


@pytest.mark.parametrize("fault", ["html_page", "wrong_content_type", "reset_connection"])
def test_backup_password_after_a_failed_download(sim: Sim, tmp_path: Path, fault: str) -> None:
    sim.fault(0, "backup", fault)
    with sim.client(retry={"max_attempts": 1, "max_total": 1.0, "initial_backoff": 0.01}) as c:
        with pytest.raises(bt_dr.BtDrError) as ei:
            c.download_backup(tmp_path, password=BACKUP_PASSWORD)
    assert_no_secret(ei.value, BACKUP_PASSWORD, sim.client_secret)


def test_p12_passphrase() -> None:
    cases: List[Any] = [
        (FIXTURES / "default_chain.p12", bt_dr.WrongPassphrase),
        (FIXTURES / "not_a_p12.p12", bt_dr.CertificateError),
        (FIXTURES / "truncated.p12", bt_dr.BtDrError),
    ]
    for path, cls in cases:
        with pytest.raises(cls) as ei:
            bt_dr.check_certificate_bundle(path, P12_PASSPHRASE)
        assert_no_secret(ei.value, P12_PASSPHRASE)
    data = (FIXTURES / "default_chain.p12").read_bytes()
    with pytest.raises(bt_dr.WrongPassphrase) as ei:
        bt_dr.check_certificate_bundle(data, P12_PASSPHRASE)
    assert_no_secret(ei.value, P12_PASSPHRASE)
