"""The layering contract of DESIGN.md, checked by import-linter on every test run."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(cwd: Path, package_parent: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=cwd, capture_output=True, text=True, env={"PYTHONPATH": str(package_parent), "PATH": ""},
    )


def test_the_contracts_hold():
    result = lint_imports(ROOT, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_the_contracts_catch_qt_below_ui_and_an_upward_import(tmp_path):
    shutil.copytree(ROOT / "previz_app", tmp_path / "previz_app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / "previz_app" / "domain" / "model.py", "a") as handle:
        handle.write("\nimport PySide6  # noqa\nfrom previz_app.store import folder  # noqa\n")
    result = lint_imports(tmp_path, tmp_path)
    assert result.returncode == 1
    assert "Contracts: 0 kept, 2 broken." in result.stdout
    assert "previz_app.domain.model -> PySide6" in result.stdout
    assert "previz_app.domain.model -> previz_app.store.folder" in result.stdout
