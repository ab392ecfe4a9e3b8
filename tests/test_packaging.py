"""The built wheel: it carries every module, the templates and the static files, and serves pages.

In the repository the pages' ``templates/`` and ``static/`` sit beside the package; the
wheel must carry them inside it (``runsheet/templates``, ``runsheet/static``), and an app
imported from an installed wheel must find them there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the project's wheel (no dependencies) and return its path."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("runsheet-*.whl")
    return built


def test_the_wheel_holds_every_module_template_and_static_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "runsheet").rglob("*.py")}
    assets = {
        f"runsheet/{p.relative_to(ROOT)}"
        for folder in ("templates", "static")
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
    }
    assert modules - names == set()
    assert assets - names == set()
    assert "runsheet/templates/mc.html" in names
    assert "runsheet/static/js/mc.js" in names
    assert "runsheet/plans/default.yaml" in names


def test_an_app_installed_from_the_wheel_serves_its_pages_and_scripts(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target)]
        + [str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    script = """
import sys, runsheet
assert runsheet.__file__.startswith(sys.argv[1]), runsheet.__file__
from runsheet import create_app
app = create_app({"SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://", "TESTING": True})
assert app.static_folder.startswith(sys.argv[1]), app.static_folder
client = app.test_client()
for path in ("/", "/stage", "/static/js/mc.js", "/static/css/app.css"):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
print("served from", app.template_folder)
"""
    # The installed wheel comes first on the path, the test environment's packages after it;
    # run outside the checkout so that the repository's own runsheet/ cannot be imported.
    environment = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(target)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
