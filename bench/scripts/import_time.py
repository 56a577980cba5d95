"""How long `import bt_dr` takes over a bare interpreter, next to peers (issue 16 item 2).

    python import_time.py [--runs 20] [--path DIR] [MODULE ...]

Each row is the best of N fresh interpreters running ``import MODULE`` minus the best of N
running ``pass`` (the interpreter's own start-up), so the figure is what the import adds.
Runs are alternated between rows so that a busy machine slows every row alike. Peers that are
not installed (e.g. ``requests`` outside the bench venv) are reported as "not installed".
``--path DIR`` puts DIR first on ``sys.path`` in every row (``pass`` too), to compare a build
that is not installed (e.g. the package as of another commit next to the same ``_native``).
Prints the CPU model, one line per module, the ratio against bt_dr, and a JSON line for BENCHMARKS.md.
"""

import argparse
import json
import subprocess
import sys
import time
from typing import Dict, List, Optional

PEERS = ["json", "requests"]


PRELUDE = ""


def _wall(code: str) -> float:
    """Seconds for one fresh interpreter (no user site, no PYTHON* environment) to run ``code``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-c", PRELUDE + code], check=True)
    return time.perf_counter() - start


def _installed(module: str) -> bool:
    probe = subprocess.run(
        [sys.executable, "-I", "-c", PRELUDE + f"import importlib.util as u; sys.exit(u.find_spec({module!r}) is None)"]
    )
    return probe.returncode == 0


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="interpreters per row (best of)")
    parser.add_argument("--path", help="directory put first on sys.path in every row")
    parser.add_argument("modules", nargs="*", default=["bt_dr"] + PEERS)
    args = parser.parse_args(argv)
    global PRELUDE
    PRELUDE = "import sys; " + (f"sys.path.insert(0, {args.path!r}); " if args.path else "")

    rows = [m for m in args.modules if _installed(m)]
    missing = [m for m in args.modules if m not in rows]
    best: Dict[str, float] = {"": float("inf"), **{m: float("inf") for m in rows}}
    for _ in range(args.runs):
        best[""] = min(best[""], _wall("pass"))
        for m in rows:
            best[m] = min(best[m], _wall(f"import {m}"))

    bare = best[""]
    added = {m: max(best[m] - bare, 0.0) for m in rows}
    print(f"cpu: {_cpu_model()}")
    print(f"python {sys.version.split()[0]}: bare interpreter {bare * 1000:.1f} ms (best of {args.runs})")
    for m in rows:
        ratio = ""
        if "bt_dr" in added and m != "bt_dr" and added[m] > 0:
            ratio = f"  (bt_dr takes {added['bt_dr'] / added[m]:.2f}x as long)"
        print(f"import {m:<10} +{added[m] * 1000:6.1f} ms{ratio}")
    for m in missing:
        print(f"import {m:<10} not installed")
    ms = {m: round(v * 1000, 2) for m, v in added.items()}
    print(json.dumps({"runs": args.runs, "bare_ms": round(bare * 1000, 2), "import_ms": ms}))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
