#!/usr/bin/env python3
"""Cross-binding conformance test (issue 15, item 3): one table of cases, run through Python,
Node and C, each output compared with one golden JSON file per case. See README.md.

    run.py [--binding python,node,c] [--case NAME ...]

Environment: BT_DR_SIM_BIN (the simulator), BT_DR_CONFORMANCE_C (the compiled C driver),
BT_DR_CONFORMANCE_PYTHON (a Python with the bt_dr wheel; default this one), NODE (default
`node`), BT_DR_UPDATE_GOLDEN=1 to rewrite the golden files from BT_DR_GOLDEN_FROM's output
(default `c`), after which the other bindings are still compared against them.

Exit status 1 when any binding's output differs from a golden file (or when a case listed as a
known difference of a binding suddenly matches: remove the entry then).
"""

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GOLDEN = HERE / "golden"
BINDINGS = ("python", "node", "c")

# The C driver takes positional strings: the case's named arguments in this order ("-" = null,
# booleans "1"/"0", objects and lists as JSON).
C_ARGS: Dict[str, List[str]] = {
    "parse_version": ["text"],
    "parse_backup_name": ["name"],
    "format_backup_name": ["version", "site", "date", "time", "id"],
    "check_restore": ["backup_version", "site_version", "backup_product", "site_product"],
    "check_restore_onto": ["inventory", "site", "backup_version", "backup_product"],
    "nsb_coverage": ["product", "include_logged_history"],
    "load_inventory": ["path"],
    "check_certificate_bundle": ["p12", "passphrase", "options"],
    "vault_key_record": ["path", "site", "date", "password_protected"],
    "appliance_record": ["path"],
    "plan_retention": ["site", "sets", "policy"],
    "verify_backup_set": ["set"],
    "audit": ["inventory", "store", "options"],
    "plan_failover": ["inventory", "site", "mode", "options"],
    "check_health": [],
    "get_api_info": [],
    "download_report": ["kind", "window", "dir"],
}


def c_arg(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


class Sim:
    """One simulator (a failover pair) for a binding's run; reset before every case."""

    def __init__(self, binary: str) -> None:
        self.proc = subprocess.Popen(
            [binary, "--control-port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulator {binary} did not start")
        self.line = line.strip()
        self.info: Dict[str, Any] = json.loads(line)

    def control(self, path: str, body: Any) -> None:
        req = urllib.request.Request(
            self.info["control_url"] + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def reset(self) -> None:
        for i in (0, 1):
            self.control(f"/appliances/{i}/clear_faults", {})
            self.control(f"/appliances/{i}/down", {"down": False})
            self.control(f"/appliances/{i}/health", {"success": True})
        self.control("/appliances/0/role", {"role": "primary"})
        self.control("/appliances/1/role", {"role": "backup"})

    def env(self) -> Dict[str, str]:
        e = {"BT_DR_CONFORMANCE_SIM": self.line}
        for k, v in self.info.items():
            if isinstance(v, str):
                e[f"BT_DR_SIM_{k.upper()}"] = v
        return e

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def substitute(v: Any, subs: Dict[str, str]) -> Any:
    """`{fixtures}`, `{data}` and `{tmp}` in string arguments (the case table stays portable)."""
    if isinstance(v, str):
        for k, s in subs.items():
            v = v.replace("{" + k + "}", s)
        return v
    if isinstance(v, list):
        return [substitute(x, subs) for x in v]
    if isinstance(v, dict):
        return {k: substitute(x, subs) for k, x in v.items()}
    return v


def snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def snake_keys(v: Any) -> Any:
    if isinstance(v, dict):
        return {snake(k): snake_keys(x) for k, x in v.items()}
    if isinstance(v, list):
        return [snake_keys(x) for x in v]
    return v


PORT = re.compile(r"127\.0\.0\.1:\d+")


def normalise(v: Any, replace: Dict[str, str]) -> Any:
    """The volatile values of README.md's rules: paths, simulator ports."""
    if isinstance(v, str):
        for real, token in replace.items():
            v = v.replace(real, token)
        return PORT.sub("127.0.0.1:<port>", v)
    if isinstance(v, list):
        return [normalise(x, replace) for x in v]
    if isinstance(v, dict):
        return {k: normalise(x, replace) for k, x in v.items()}
    return v


def mask(v: Any, path: List[str]) -> Any:
    """Replaces the value at a dotted path (`*` = every item of a list) with `<volatile>`."""
    if not path:
        return "<volatile>"
    head, rest = path[0], path[1:]
    if head == "*" and isinstance(v, list):
        return [mask(x, rest) for x in v]
    if isinstance(v, dict) and head in v:
        return {**v, head: mask(v[head], rest)}
    return v


def run_case(binding: str, case: Dict[str, Any], sim: Optional[Sim], tools: Dict[str, str]) -> Any:
    tmp = tempfile.mkdtemp(prefix=f"bt-dr-conf-{binding}-")
    try:
        subs = {
            "fixtures": str(REPO / "bt-dr-core" / "tests" / "fixtures" / "p12"),
            "data": str(HERE / "data"),
            "tmp": tmp,
        }
        args = substitute(case.get("args", {}), subs)
        env = dict(os.environ)
        if case.get("sim"):
            assert sim is not None
            sim.reset()
            for step in case.get("sim_setup", []):
                sim.control(step["path"], step["body"])
            env.update(sim.env())
        concrete = {**case, "args": args}
        if binding == "python":
            cmd = [tools["python"], str(HERE / "run_python.py"), json.dumps(concrete)]
        elif binding == "node":
            cmd = [tools["node"], str(HERE / "run_node.js"), json.dumps(concrete)]
        else:
            names = C_ARGS[case["op"]]
            cmd = [tools["c"], case["op"], *(c_arg(args.get(k)) for k in names)]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if p.returncode != 0 or not p.stdout.strip():
            return {"driver_failed": p.returncode, "stderr": p.stderr[-2000:]}
        out = json.loads(p.stdout.strip().splitlines()[-1])
        if binding == "node":
            out = snake_keys(out)
        replace = {tmp: "<tmp>", str(REPO): "<repo>"}
        if sim is not None:
            replace[sim.info["ca_pem_path"]] = "<ca>"
        out = normalise(out, replace)
        for dotted in case.get("volatile", []):
            out = mask(out, dotted.split("."))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def dump(v: Any) -> str:
    return json.dumps(v, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binding", default=",".join(BINDINGS))
    ap.add_argument("--case", action="append", default=[])
    opts = ap.parse_args()
    bindings = [b for b in opts.binding.split(",") if b]
    cases = json.loads((HERE / "cases.json").read_text())["cases"]
    if opts.case:
        cases = [c for c in cases if c["name"] in opts.case]
    update = os.environ.get("BT_DR_UPDATE_GOLDEN") == "1"
    golden_from = os.environ.get("BT_DR_GOLDEN_FROM", "c")
    if update and golden_from in bindings:
        bindings = [golden_from] + [b for b in bindings if b != golden_from]
    tools = {
        "python": os.environ.get("BT_DR_CONFORMANCE_PYTHON", sys.executable),
        "node": os.environ.get("NODE", "node"),
        "c": os.environ.get("BT_DR_CONFORMANCE_C", ""),
    }
    if "c" in bindings and not tools["c"]:
        print("conformance: BT_DR_CONFORMANCE_C (the compiled C driver) is not set", file=sys.stderr)
        return 2
    sim_bin = os.environ.get("BT_DR_SIM_BIN", str(REPO / "target" / "debug" / "bt-dr-sim"))
    GOLDEN.mkdir(exist_ok=True)
    failures: List[str] = []
    counts = {"pass": 0, "fail": 0, "known": 0}
    for binding in bindings:
        sim = Sim(sim_bin) if any(c.get("sim") for c in cases) else None
        try:
            for case in cases:
                name = case["name"]
                got = dump(run_case(binding, case, sim, tools))
                gpath = GOLDEN / f"{name}.json"
                if update and binding == golden_from and name not in case.get("known_differences", {}):
                    gpath.write_text(got)
                want = gpath.read_text() if gpath.exists() else "(no golden file)\n"
                known = case.get("known_differences", {}).get(binding)
                if got == want and known is None:
                    counts["pass"] += 1
                    continue
                if got != want and known is not None:
                    counts["known"] += 1
                    print(f"KNOWN {binding:6} {name}: {known}")
                    continue
                counts["fail"] += 1
                if known is not None:
                    failures.append(f"{binding} {name}: matches the golden file now; remove its known difference")
                    continue
                diff = "".join(
                    difflib.unified_diff(
                        want.splitlines(True), got.splitlines(True), f"golden/{name}.json", f"{binding}"
                    )
                )
                failures.append(f"{binding} {name}: differs from golden/{name}.json\n{diff}")
        finally:
            if sim is not None:
                sim.stop()
    for f in failures:
        print("FAIL " + f)
    print(
        f"conformance: {len(cases)} cases x {len(bindings)} bindings: {counts['pass']} match, "
        f"{counts['known']} known differences, {counts['fail']} failures"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
