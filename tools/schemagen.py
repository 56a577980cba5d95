"""What the three surface generators share (stdlib only): reading ``schema/bt-dr.schema.json``,
walking its type expressions, and writing or checking one generated file.

Used by ``bt-dr-py/scripts/gen_models.py``, ``bt-dr-py/scripts/gen_stubs.py`` and
``bt-dr-node/scripts/gen_types.py``; each maps the walked types to its own language.
"""

import difflib
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema" / "bt-dr.schema.json"

# Schema types that are plain strings in JSON (the core serializes them with `Display`):
# every surface writes them as its string type rather than declaring them.
INLINE_STRING = {"ProductVersion", "VersionPattern"}


def load(path: Path) -> Dict[str, Any]:
    """The schema document."""
    doc: Dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return doc


def nullable(s: Any) -> bool:
    """``null`` is one of the values schema ``s`` allows."""
    if not isinstance(s, dict):
        return False
    t = s.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return True
    return any(nullable(a) for a in s.get("anyOf", []) + s.get("oneOf", []))


def ref_name(s: Any) -> Optional[str]:
    """The ``$defs`` name ``s`` refers to, if it is a reference."""
    r = s.get("$ref") if isinstance(s, dict) else None
    return r.rsplit("/", 1)[-1] if isinstance(r, str) else None


def alternatives(s: Dict[str, Any]) -> Optional[List[Any]]:
    """The non-null alternatives of an ``anyOf``/``oneOf``, or None when ``s`` is neither."""
    for key in ("anyOf", "oneOf"):
        if key in s:
            return [a for a in s[key] if not (isinstance(a, dict) and a.get("type") == "null")]
    return None


def single_type(s: Dict[str, Any]) -> Optional[str]:
    """The one JSON type of ``s`` besides ``null`` (``string``, ``array``...), if it has one."""
    t = s.get("type")
    if isinstance(t, list):
        rest = [x for x in t if x != "null"]
        return rest[0] if len(rest) == 1 else None
    return t if isinstance(t, str) else None


def tagged_variants(s: Dict[str, Any]) -> Optional[List[Dict[str, Any]]]:
    """The variants of a tagged union (``oneOf`` of objects), or None."""
    variants = s.get("oneOf")
    if variants and all(isinstance(v, dict) and "properties" in v for v in variants):
        return list(variants)
    return None


def write_or_check(text: str, target: Path, check: bool, sources: str) -> int:
    """Writes ``text`` to ``target`` (whole, via a temporary file renamed over it) or, with
    ``check``, prints a diff and returns 1 when the file differs. ``sources`` names what it is
    generated from, for the message."""
    current = target.read_text(encoding="utf-8") if target.exists() else ""
    if check:
        if current != text:
            diff = difflib.unified_diff(current.splitlines(True), text.splitlines(True), str(target), "generated")
            sys.stdout.writelines(list(diff)[:200])
            print(f"\n{target} differs from {sources}: run make generate (or the script without --check)")
            return 1
        return 0
    if current != text:
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        print(f"wrote {target}")
    return 0
