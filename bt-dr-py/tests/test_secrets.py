"""Issue 12 item 12: no secret (client secret, backup password, p12 passphrase) appears in any
text of an error: ``str``, ``repr``, ``args``, ``message``, ``details`` (also as JSON) and the
detail attributes."""

import base64
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


def assert_no_credentials(e: BaseException, sim: Sim, *secrets: str) -> None:
    """No secret, no ``Bearer ``/``Basic `` credential and no Basic-auth pair in any text."""
    basic = base64.b64encode(f"{sim.client_id}:{sim.client_secret}".encode()).decode()
    assert_no_secret(e, sim.client_secret, basic, *secrets)
    for text in error_texts(e):
        for marker in ("Bearer ", "bearer ", "Basic ", "basic "):
            assert marker not in text, f"credential {marker!r} leaked in {text!r}"


@pytest.mark.parametrize("status", [502, 200])
def test_proxy_echoing_the_backup_request(sim: Sim, tmp_path: Path, status: int) -> None:
    # `echo_headers` answers with the request line, every header (the bearer token) and the
    # request body: the JSON `{"password": ...}` of POST /api/backup. Only the core's redaction
    # keeps them out of the error (test_echo_headers_really_echoes shows they are on the wire).
    sim.fault(0, "backup", "echo_headers", status)
    with sim.client(retry={"max_attempts": 1, "max_total": 1.0, "initial_backoff": 0.01}) as c:
        with pytest.raises(bt_dr.BtDrError) as ei:
            c.download_backup(tmp_path, password=BACKUP_PASSWORD)
    assert_no_credentials(ei.value, sim, BACKUP_PASSWORD)
    assert not any(p.name.endswith(".nsb") for p in tmp_path.iterdir())


def test_proxy_echoing_the_token_request(sim: Sim) -> None:
    # The token request carries the client id and secret as `Authorization: Basic ...`.
    sim.fault(0, "token", "echo_headers", 502)
    with sim.client(retry={"max_attempts": 1, "max_total": 1.0, "initial_backoff": 0.01}) as c:
        with pytest.raises(bt_dr.BtDrError) as ei:
            c.check_health()
    assert_no_credentials(ei.value, sim)


def test_echo_headers_really_echoes(sim: Sim) -> None:
    # The tests above can fail: the simulator does put the secrets on the wire.
    import ssl
    import urllib.error
    import urllib.request

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sim.fault(0, "backup", "echo_headers", 502, times=1)
    req = urllib.request.Request(
        sim.url(0) + "/api/backup",
        data=json.dumps({"password": BACKUP_PASSWORD}).encode(),
        headers={"Authorization": "Bearer tok-Abc123", "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(req, context=ctx, timeout=10)
    body = ei.value.read().decode()
    assert ei.value.code == 502
    assert BACKUP_PASSWORD in body and "Bearer tok-Abc123" in body, body


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
