"""The command line starts without the heavy libraries: `list`, `--help` and every command's
`--help` import none of them (`predbench bench startup` prints the times)."""

from __future__ import annotations

import json
import subprocess
import sys

#: Libraries that take seconds or hundreds of MB to import; commands import them where needed.
HEAVY = ("torch", "scipy.stats", "sklearn", "pandas", "matplotlib", "xgboost", "lightgbm",
         "gpytorch", "torch_geometric", "ray", "ngboost", "botorch", "emcee")

SCRIPT = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
from benchmarks.cli import app
from predictors.registry import families

def paths(group, prefix):
    yield prefix
    for name, sub in getattr(group, "commands", {}).items():
        yield from paths(sub, [*prefix, name])

runner = CliRunner()
results = {}
for args in [["list"], *[[*p, "--help"] for p in paths(get_command(app), [])]]:
    result = runner.invoke(app, args)
    results[" ".join(args)] = result.exit_code
heavy = [m for m in HEAVY if m in sys.modules]
print(json.dumps({"results": results, "heavy": heavy, "predictors": len(families())}))
"""


def test_list_and_every_help_import_no_heavy_library():
    code = f"HEAVY = {HEAVY!r}\n{SCRIPT}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [], f"imported at start-up: {report['heavy']}"
    assert report["predictors"] >= 40
    assert {"list", "--help", "run --help", "bench startup --help", "search --help",
            "analyze supernet analyze --help"} <= set(report["results"])
    assert set(report["results"].values()) == {0}, report["results"]
