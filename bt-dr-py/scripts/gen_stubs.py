"""Generates ``python/bt_dr/_native.pyi`` from the core's JSON Schema and a template
(issue 15 item 2).

    python scripts/gen_stubs.py           # rewrite python/bt_dr/_native.pyi
    python scripts/gen_stubs.py --check   # exit 1 (with a diff) when it differs
    python scripts/gen_stubs.py --out F   # write F instead (the drift check)

Which part is which:

* GENERATED: one ``TypedDict`` per type of ``schema/bt-dr.schema.json`` (the JSON the native
  functions return or take, in the core's snake_case keys; timestamps, dates and paths as the
  strings they are in JSON), string enums as ``Literal`` aliases, tagged unions as ``Union``s.
  Keys the core may leave out are ``NotRequired``. They replace the line
  ``# @generated-types@`` of the template.
* HAND-WRITTEN: ``scripts/_native.pyi.in``, the template: the error classes and the function
  and class signatures of the native module (its Rust source decides those, not the schema);
  signatures name the generated types where a result is one of them.

Stdlib only; reads the schema ``make generate`` writes.
"""

import argparse
import json
import keyword
import sys
from pathlib import Path
from typing import Any, Dict, List

PY_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PY_DIR.parent / "tools"))
import schemagen  # noqa: E402  (tools/schemagen.py: what the surface generators share)
from schemagen import INLINE_STRING  # noqa: E402

SCHEMA = schemagen.SCHEMA
TEMPLATE = PY_DIR / "scripts" / "_native.pyi.in"
TARGET = PY_DIR / "python" / "bt_dr" / "_native.pyi"
MARKER = "# @generated-types@ (gen_stubs.py puts the schema's TypedDicts here)"



class Gen:
    def __init__(self, doc: Dict[str, Any]) -> None:
        self.defs: Dict[str, Any] = doc["$defs"]

    def py(self, s: Any) -> str:
        inner = self.non_null(s)
        return f"Optional[{inner}]" if schemagen.nullable(s) and inner != "Any" else inner

    def non_null(self, s: Any) -> str:
        if s is True or s == {}:
            return "Any"
        name = schemagen.ref_name(s)
        if name is not None:
            # Quoted: the stub declares types in name order, not in the order they are used.
            return "str" if name in INLINE_STRING else f'"{name}"'
        if "const" in s:
            return f"Literal[{json.dumps(s['const'])}]"
        alts = schemagen.alternatives(s)
        if alts is not None:
            parts: List[str] = []
            for a in alts:
                t = self.non_null(a)
                if t not in parts:
                    parts.append(t)
            return parts[0] if len(parts) == 1 else f"Union[{', '.join(parts)}]"
        t = schemagen.single_type(s)
        if t == "array":
            return f"List[{self.py(s.get('items', True))}]"
        if t == "object":
            extra = s.get("additionalProperties", True)
            if "properties" not in s and isinstance(extra, dict):
                return f"Dict[str, {self.py(extra)}]"
            return "Dict[str, Any]"
        return {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}.get(t or "", "Any")

    def typed_dict(self, name: str, s: Dict[str, Any]) -> List[str]:
        props: Dict[str, Any] = s["properties"]
        required = set(s.get("required", []))
        keys = s.get("x-order") or list(props)
        items = []
        for key in keys:
            t = self.py(props[key])
            items.append((key, t if key in required else f"NotRequired[{t}]"))
        doc = first_line(s.get("description", ""))
        if any(keyword.iskeyword(k) or not k.isidentifier() for k, _ in items):
            # Functional form: a key is a Python keyword (`from`, `class`).
            body = ", ".join(f"{json.dumps(k)}: {t}" for k, t in items)
            return [f"{name} = TypedDict({json.dumps(name)}, {{{body}}})"] + ([f"# {doc}"] if doc else [])
        out = [f"class {name}(TypedDict):"]
        if doc:
            out.append(f'    """{doc}"""')
        out += [f"    {k}: {t}" for k, t in items] or ["    pass"]
        return out

    def declaration(self, name: str) -> List[str]:
        s = self.defs[name]
        if name in INLINE_STRING:
            return []
        if "properties" in s:
            return self.typed_dict(name, s)
        variants = schemagen.tagged_variants(s)
        if variants:
            names = []
            out: List[str] = []
            for v in variants:
                tag = next((p["const"] for p in v["properties"].values() if "const" in p), str(len(names)))
                vname = f"{name}_{''.join(w.title() for w in str(tag).split('_'))}"
                names.append(vname)
                out += self.typed_dict(vname, v) + [""]
            return out + [f"{name} = Union[{', '.join(names)}]"]
        return [f"{name} = {self.non_null(s)}"]

    def generate(self) -> str:
        out: List[str] = []
        for name in sorted(self.defs):
            decl = self.declaration(name)
            if decl:
                out += decl + [""]
        return "\n".join(out).rstrip("\n")


def first_line(text: str) -> str:
    line = (text or "").strip().split("\n\n")[0].replace("\n", " ")
    return line.replace("\\", "\\\\").replace('"""', "'''")


def render(schema_path: Path, template_path: Path) -> str:
    template = template_path.read_text(encoding="utf-8")
    if template.count(MARKER) != 1:
        raise ValueError(f"{template_path} must hold the line {MARKER!r} once")
    body = Gen(schemagen.load(schema_path)).generate()
    generated = (
        "# ---- GENERATED by scripts/gen_stubs.py from schema/bt-dr.schema.json: do not edit ----\n\n"
        + body
        + "\n\n# ---- end of the generated part; the rest is scripts/_native.pyi.in ----"
    )
    return template.replace(MARKER, generated)


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(description="Generate bt_dr/_native.pyi from the schema and its template")
    parser.add_argument("--check", action="store_true", help="fail when _native.pyi differs")
    parser.add_argument("--schema", type=Path, default=SCHEMA)
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    text = render(args.schema, args.template)
    return schemagen.write_or_check(text, args.out, args.check, f"{args.schema} + {args.template}")

if __name__ == "__main__":
    sys.exit(main())
