"""A broken import-linter contract (`.importlinter`, run by `make test`) fails and names the
offending import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cmsync", "sync", "campaigns", "sms", "billing", "maintenance", "lib", "sandbox")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / ".importlinter", tree / ".importlinter")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tree / package,
            ignore=shutil.ignore_patterns("__pycache__", "templates", "static"),
        )
    return tree


def test_a_service_importing_a_task_breaks_the_layers_and_is_named(tmp_path):
    tree = _copy_tree(tmp_path)
    status = tree / "sync" / "services" / "status.py"
    status.write_text(status.read_text() + "\nfrom sync.tasks import primary_sync  # noqa\n")

    result = _lint(tree)

    assert result.returncode != 0
    assert "sync.services.status -> sync.tasks" in result.stdout


def test_product_code_importing_the_sandbox_is_named(tmp_path):
    tree = _copy_tree(tmp_path)
    module = tree / "maintenance" / "support_codes.py"
    module.write_text(module.read_text() + "\nimport sandbox.config  # noqa\n")

    result = _lint(tree)

    assert result.returncode != 0
    assert "maintenance.support_codes -> sandbox.config" in result.stdout
