"""scripts/setup.sh on an externally managed Python (PEP 668) and on one pip may install into.

The interpreter, apt-get and sudo are stand-ins that log their arguments (nothing is installed);
the stand-in interpreter answers the PEP 668 question with ``externally_managed`` on a fake
standard-library directory, with or without the marker.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("externally_managed",
                                              ROOT / "scripts" / "externally_managed.py")
pep668 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pep668)

FAKE_PYTHON = """#!/usr/bin/env bash
echo "$0 $*" >> "$SETUP_LOG"
case "$1" in
  scripts/externally_managed.py)
    exec "$REAL_PYTHON" -c "import sys; from pathlib import Path; sys.path.insert(0, 'scripts')
from externally_managed import externally_managed
sys.exit(0 if externally_managed(Path('$FAKE_STDLIB'), in_venv=False) else 1)";;
  -c) exit 1;;  # no ensurepip: Debian without python3-venv
  -m) if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi;;
esac
"""
LOGGER = '#!/usr/bin/env bash\necho "$(basename "$0") $*" >> "$SETUP_LOG"\n'


def test_marker_in_stdlib_outside_a_venv_means_externally_managed(tmp_path):
    assert not pep668.externally_managed(tmp_path, in_venv=False)
    (tmp_path / pep668.MARKER).write_text("[externally-managed]\nError=use a venv\n")
    assert pep668.externally_managed(tmp_path, in_venv=False)
    assert not pep668.externally_managed(tmp_path, in_venv=True)  # PEP 668: venvs ignore it


def _run_setup(tmp_path: Path, managed: bool) -> tuple[list[str], str, Path, Path]:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    for name in ("setup.sh", "externally_managed.py"):
        shutil.copy(ROOT / "scripts" / name, project / "scripts" / name)
    stdlib, bin_dir = tmp_path / "stdlib", tmp_path / "bin"
    stdlib.mkdir()
    bin_dir.mkdir()
    if managed:
        (stdlib / pep668.MARKER).write_text("[externally-managed]\n")
    for name, text in (("python", FAKE_PYTHON), ("apt-get", LOGGER), ("sudo", LOGGER)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    log.touch()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHON": str(bin_dir / "python"), "REAL_PYTHON": sys.executable,
           "FAKE_STDLIB": str(stdlib), "SETUP_LOG": str(log)}
    out = subprocess.run(["bash", "scripts/setup.sh"], cwd=project, env=env, capture_output=True,
                         text=True, check=True, timeout=60)
    return log.read_text().splitlines(), out.stdout, project, bin_dir / "python"


@pytest.mark.parametrize("managed", [True, False])
def test_setup_makes_a_venv_only_where_the_python_is_externally_managed(tmp_path, managed):
    calls, stdout, project, python = _run_setup(tmp_path, managed)
    pips = [c for c in calls if " -m pip " in c]
    if managed:
        assert f"{python} -m venv .venv" in calls
        assert any(c.startswith("apt-get install") and "python3-venv" in c for c in calls)
        assert pips == [".venv/bin/python -m pip install -q torch==2.13.0",  # torch first
                        ".venv/bin/python -m pip install -q -e .[dev,ray]"]
        assert (project / ".venv" / "bin" / "python").is_file()
        assert "`. scripts/activate`" in stdout
    else:
        assert pips == [f"{python} -m pip install -q -e .[dev,ray]"]
        assert not any(" -m venv" in c for c in calls) and not (project / ".venv").exists()
        assert stdout == ""
