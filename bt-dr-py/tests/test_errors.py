"""The exception hierarchy mirrors the core's ErrorKind list one to one."""

from pathlib import Path

import pytest

import bt_dr
from bt_dr import _native

from conftest import FIXTURES, Sim


def test_every_error_kind_has_its_class() -> None:
    kinds = bt_dr.error_kinds()
    assert len(kinds) >= 17
    seen = set()
    for kind, class_name in kinds:
        cls = getattr(bt_dr, class_name, None)
        assert cls is not None, f"bt_dr.{class_name} missing for kind {kind}"
        assert isinstance(cls, type)
        assert issubclass(cls, bt_dr.BtDrError)
        assert issubclass(cls, Exception)
        assert cls is not bt_dr.BtDrError
        assert cls.__module__ == "bt_dr"
        assert cls.__name__ == class_name
        assert cls.kind == kind
        assert bt_dr.exception_class(kind) is cls
        assert class_name in bt_dr.__all__
        seen.add(cls)
    assert len(seen) == len(kinds), "two kinds share one class"


def test_named_classes_from_the_issue() -> None:
    for name in [
        "AuthError",
        "PermissionDenied",
        "RateLimited",
        "ApiError",
        "TlsError",
        "IntegrityError",
        "CertificateError",
        "WrongPassphrase",
        "VersionIncompatible",
        "InvalidInput",
    ]:
        assert issubclass(getattr(bt_dr, name), bt_dr.BtDrError)


def test_unknown_kind_falls_back_to_base() -> None:
    assert bt_dr.exception_class("no_such_kind") is bt_dr.BtDrError


def test_error_carries_kind_message_and_details() -> None:
    with pytest.raises(bt_dr.ParseError) as ei:
        bt_dr.parse_version("24.x")
    e = ei.value
    assert e.kind == "parse"
    assert "24.x" in e.message
    assert str(e) == e.message
    assert e.details["kind"] == "parse"
    assert e.details["what"] == "product version"
    assert e.what == "product version"


def test_version_incompatible_details() -> None:
    with pytest.raises(bt_dr.VersionIncompatible) as ei:
        bt_dr.check_restore("24.2.0", "24.1.1", strict=True)
    assert ei.value.details["backup_version"] == "24.2.0"
    assert ei.value.details["site_version"] == "24.1.1"


def test_invalid_input_names_the_field() -> None:
    with pytest.raises(bt_dr.InvalidInput) as ei:
        bt_dr.format_backup_name("24.1.2", "bad/site", "2026-01-01", "abc")
    assert ei.value.field == "backup_name.site"


def test_native_and_package_classes_are_the_same_objects() -> None:
    assert bt_dr.AuthError is _native.AuthError
    assert bt_dr.BtDrError is _native.BtDrError


def test_wrong_secret_is_auth_error_without_the_secret(sim: Sim) -> None:
    secret = "definitely-wrong-secret-4711"
    with sim.client(client_secret=secret) as c:
        with pytest.raises(bt_dr.AuthError) as ei:
            c.check_health()
        assert secret not in repr(c)
    e = ei.value
    assert e.kind == "auth"
    for text in (str(e), repr(e), repr(e.details), repr(e.args)):
        assert secret not in text
        assert sim.client_secret not in text


def test_api_error_carries_the_appliance_message(sim: Sim, client: bt_dr.Client) -> None:
    sim.fault(0, "command", "xml_error", "Failover is not configured", times=1)
    with pytest.raises(bt_dr.ApiError) as ei:
        client.get_appliances()
    assert ei.value.appliance_message == "Failover is not configured"
    assert ei.value.details["appliance_message"] == "Failover is not configured"


def test_rate_limited(sim: Sim) -> None:
    sim.fault(0, "command", "rate_limited", 0)
    with sim.client(retry={"max_rate_limit_waits": 1, "max_retry_after": 0.05, "initial_backoff": 0.01}) as c:
        with pytest.raises(bt_dr.RateLimited) as ei:
            c.check_health()
    assert ei.value.kind == "rate_limited"
    assert "retry_after_ms" in ei.value.details


def test_html_instead_of_backup_is_integrity_error(sim: Sim, client: bt_dr.Client, tmp_path: Path) -> None:
    sim.fault(0, "backup", "html_page", times=1)
    with pytest.raises(bt_dr.IntegrityError):
        client.download_backup(str(tmp_path))


def test_tls_errors(sim: Sim) -> None:
    # Only the system roots: the simulator's private CA is unknown.
    with bt_dr.Client(sim.primary_url, sim.client_id, sim.client_secret, retry={"max_attempts": 1}) as c:
        with pytest.raises(bt_dr.TlsError):
            c.check_health()
    with sim.client(pin_sha256="00" * 32) as c:
        with pytest.raises(bt_dr.TlsError):
            c.probe_health()
    with pytest.raises(bt_dr.TlsError):
        bt_dr.Client(sim.primary_url.replace("https", "http"), "id", "secret")
    with pytest.raises(bt_dr.InvalidInput):
        bt_dr.Client(sim.primary_url, "id", "secret", pin_sha256="zz")


def test_network_error_when_the_appliance_is_down(sim: Sim) -> None:
    sim.set_down(0, True)
    with sim.client(retry={"max_attempts": 1, "max_total": 0.5, "initial_backoff": 0.01}) as c:
        with pytest.raises(bt_dr.NetworkError):
            c.probe_health()


def test_not_found(client: bt_dr.Client, tmp_path: Path) -> None:
    with pytest.raises(bt_dr.NotFound):
        client.download_archive("state", "2001-01-01", 1, str(tmp_path))


def test_wrong_passphrase_does_not_leak_it() -> None:
    with pytest.raises(bt_dr.WrongPassphrase) as ei:
        bt_dr.check_certificate_bundle(FIXTURES / "default_chain.p12", "pw-that-must-not-leak")
    assert "pw-that-must-not-leak" not in repr(ei.value)
    assert "pw-that-must-not-leak" not in repr(ei.value.details)


def test_not_a_bundle_is_certificate_error() -> None:
    with pytest.raises(bt_dr.CertificateError):
        bt_dr.check_certificate_bundle(FIXTURES / "not_a_p12.p12", "fixture-pass")
