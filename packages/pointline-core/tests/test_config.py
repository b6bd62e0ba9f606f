"""Where the lake lives: --lake, then POINTLINE_LAKE, then the config file, then ./lake."""

from __future__ import annotations

from pathlib import Path

import pytest
from pointline.config import Lake, resolve_lake_root
from pointline.errors import ConfigError


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No lake variables, an empty XDG config home, and tmp_path as the working directory."""
    monkeypatch.delenv("POINTLINE_LAKE", raising=False)
    monkeypatch.delenv("POINTLINE_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_default_is_lake_in_the_working_directory(clean_env: Path) -> None:
    assert resolve_lake_root() == clean_env / "lake"


def test_precedence_explicit_env_config(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(clean_env / "xdg" / "pointline" / "config.toml", 'lake_root = "/data/from-config"\n')
    assert resolve_lake_root() == Path("/data/from-config")
    monkeypatch.setenv("POINTLINE_LAKE", "/data/from-env")
    assert resolve_lake_root() == Path("/data/from-env")
    assert resolve_lake_root("/data/explicit") == Path("/data/explicit")
    assert Lake.resolve("~/x").root == Path("~/x").expanduser()


def test_pointline_config_names_the_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(clean_env / "elsewhere.toml", 'lake_root = "relative/lake"\n')
    monkeypatch.setenv("POINTLINE_CONFIG", str(config))
    assert resolve_lake_root() == clean_env / "relative" / "lake"


@pytest.mark.parametrize(
    ("text", "message"),
    [("lake_root = [1]\n", "lake_root must be a string path"), ("lake_root = \n", "invalid TOML")],
)
def test_bad_config_files_are_config_errors(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setenv("POINTLINE_CONFIG", str(write_config(clean_env / "bad.toml", text)))
    with pytest.raises(ConfigError, match=message):
        resolve_lake_root()


def test_a_missing_explicit_config_file_is_an_error(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTLINE_CONFIG", str(clean_env / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_lake_root()


def test_lake_layout() -> None:
    lake = Lake(Path("/l"))
    assert lake.bronze == Path("/l/bronze")
    assert lake.vendor_bronze("tardis") == Path("/l/bronze/tardis")
    assert lake.state == Path("/l/_state")
    assert lake.table_path("silver", "trades") == Path("/l/silver/trades")


def test_lake_fixture_points_the_environment_at_a_fresh_lake(lake: Lake) -> None:
    assert lake.root.is_dir()
    assert not any(lake.root.iterdir())
    assert Lake.resolve() == lake
