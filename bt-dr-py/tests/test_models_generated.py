"""Drift check: ``_model.py`` is what ``scripts/gen_models.py`` makes of the core's schema
(``schema/bt-dr.schema.json``) and ``models.toml`` (Python's own parts), like the C header's
check. Fix a failure with ``make generate``, never by editing ``_model.py``."""

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

PY_DIR = Path(__file__).resolve().parents[1]


def load_generator() -> ModuleType:
    """``scripts/gen_models.py`` as a module (it is a script, not part of the package)."""
    sys.path.insert(0, str(PY_DIR / "scripts"))
    try:
        return importlib.import_module("gen_models")
    finally:
        sys.path.pop(0)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the generator reads TOML with tomllib (3.11+)")
def test_model_module_matches_description(capsys: pytest.CaptureFixture[str]) -> None:
    gen_models = load_generator()
    rc = gen_models.main(["--check"])
    assert rc == 0, capsys.readouterr().out


def test_installed_models_match_the_source() -> None:
    # The wheel under test carries the generated file as checked in (no stale build).
    import bt_dr._model

    installed = Path(bt_dr._model.__file__).read_text(encoding="utf-8")
    source = (PY_DIR / "python" / "bt_dr" / "_model.py").read_text(encoding="utf-8")
    assert installed == source


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the generator reads TOML with tomllib (3.11+)")
def test_check_fails_on_a_hand_edit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen_models = load_generator()
    edited = tmp_path / "_model.py"
    source = (PY_DIR / "python" / "bt_dr" / "_model.py").read_text(encoding="utf-8")
    edited.write_text(source.replace("    remediation: Optional[str] = None\n", "", 1), encoding="utf-8")
    assert gen_models.main(["--check", "--target", str(edited)]) == 1
    assert "remediation" in capsys.readouterr().out
