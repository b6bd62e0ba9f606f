"""Pointline's sessions: each package tested alone, the integration suite, lint, types, docs, demo, bench.

``python3 -m nox`` runs the default sessions (every ``tests-*`` session, ``integration``, ``lint`` and
``typecheck``); ``python3 -m nox -s demo`` builds and queries a demo lake; ``python3 -m nox -l`` lists
everything.

Every test session gets a fresh environment holding only its package, that package's declared
dependencies and ``pointline-core``, all installed from this tree with non-editable path installs (so a
packaging mistake, such as a data file missing from the wheel or an undeclared dependency, fails here
rather than for a user). After installing, a guard checks that every ``pointline*`` distribution in the
environment came from this tree and fails the session if one came from a package index.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).resolve().parent
PACKAGES = {
    "core": "pointline-core",
    "research": "pointline-research",
    "tardis": "pointline-vendor-tardis",
    "binance-vision": "pointline-vendor-binance-vision",
    "quant360": "pointline-vendor-quant360",
    "coingecko": "pointline-vendor-coingecko",
}
"""Session suffix -> distribution (its directory under packages/)."""

# Tool versions pinned so that lint and type results do not change under CI's feet.
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"

# Runs inside a session's environment: every pointline* distribution must have been installed from a
# directory of this repository (direct_url.json written by pip/uv for path installs), none from an index.
GUARD = """
import json, sys
from importlib.metadata import distributions
from pathlib import Path
from urllib.parse import unquote, urlparse

root, wanted = Path(sys.argv[1]).resolve(), set(sys.argv[2:])
found, bad = set(), []
for dist in distributions():
    name = (dist.metadata["Name"] or "").lower()
    if not name.startswith("pointline"):
        continue
    found.add(name)
    raw = dist.read_text("direct_url.json")
    url = urlparse(json.loads(raw).get("url", "")) if raw else None
    path = Path(unquote(url.path)).resolve() if url is not None and url.scheme == "file" else None
    if path is None or not path.is_relative_to(root):
        bad.append(f"{name} {dist.version} (from {'an index' if raw is None else url.geturl()})")
if bad:
    sys.exit("pointline distributions not installed from this tree: " + "; ".join(bad))
if missing := wanted - found:
    sys.exit("expected distributions missing: " + ", ".join(sorted(missing)))
print("from the tree:", ", ".join(sorted(found)))
"""


def _extras(dist: str) -> list[str]:
    project = tomllib.loads((ROOT / "packages" / dist / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return sorted(project.get("optional-dependencies", {}))


def _install_from_tree(session: nox.Session, *dists: str) -> None:
    """Install ``dists`` (plus pointline-core) from the tree, with their ``testing`` extras, then guard."""
    wanted = dict.fromkeys(["pointline-core", *dists])
    specs = []
    for dist in wanted:
        path = ROOT / "packages" / dist
        if not (path / "pyproject.toml").is_file():
            session.error(f"{path.relative_to(ROOT)} has no pyproject.toml")
        specs.append(f"{path}[testing]" if "testing" in _extras(dist) else str(path))
    session.install(*specs)
    guard = Path(session.create_tmp()) / "guard_tree_installs.py"
    guard.write_text(GUARD, encoding="utf-8")
    session.run("python", str(guard), str(ROOT), *wanted)


def _make_test_session(short: str, dist: str) -> None:
    @nox.session(name=f"tests-{short}")
    def tests(session: nox.Session) -> None:
        _install_from_tree(session, dist)
        session.run("pytest", f"packages/{dist}/tests", *session.posargs)

    tests.__doc__ = f"Test {dist} alone, in an environment with only it and its declared dependencies."


for _short, _dist in PACKAGES.items():
    _make_test_session(_short, _dist)


@nox.session
def integration(session: nox.Session) -> None:
    """End-to-end tests over every package installed together (tests-integration/)."""
    session.install("uv")
    _install_from_tree(session, *PACKAGES.values())
    session.run("pytest", "tests-integration", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole repository."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on pointline-core's sources."""
    session.install(MYPY)
    _install_from_tree(session)
    session.run("mypy", "--strict", "packages/pointline-core/src")


@nox.session(default=False)
def docs(session: nox.Session) -> None:
    """Regenerate docs/reference from the installed plugins (tests-integration checks they are current)."""
    _install_from_tree(session, *PACKAGES.values())
    session.run("python", "tools/gen_docs.py")


@nox.session(default=False)
def demo(session: nox.Session) -> None:
    """The main job: build a demo lake from realistic bronze files, ingest it, and query it."""
    _install_from_tree(session, *PACKAGES.values())
    session.run("pointline", "plugins")
    session.run("python", "tools/demo.py", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Every benchmark against a raw Polars baseline in the same run; writes bench/RESULTS.md (`-- --quick`)."""
    _install_from_tree(session, *PACKAGES.values())
    session.install("numpy")  # the benchmarks' data generators use it directly
    session.run("python", "bench/run_all.py", *session.posargs)
