"""Exchanges are data: validated specs loaded from packaged TOML."""

from __future__ import annotations

from pathlib import Path

import pytest
from pointline.errors import PluginError
from pointline.exchanges import ASSET_CLASSES, ExchangeSpec, load_exchanges_toml


def test_load_exchanges_toml(tmp_path: Path) -> None:
    path = tmp_path / "exchanges.toml"
    path.write_text(
        '[[exchange]]\nname = "szse"\nasset_class = "equity"\ntimezone = "Asia/Shanghai"\nmic = "XSHE"\n'
        'calendar = "XSHG"\n\n[[exchange]]\nname = "binance"\nasset_class = "crypto_spot"\ntimezone = "UTC"\n',
        encoding="utf-8",
    )
    assert load_exchanges_toml(path) == [
        ExchangeSpec("szse", "equity", "Asia/Shanghai", mic="XSHE", calendar="XSHG"),
        ExchangeSpec("binance", "crypto_spot", "UTC"),
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('name = "x"\nasset_class = "stonks"\ntimezone = "UTC"', "unknown asset class 'stonks'"),
        ('name = "x"\nasset_class = "equity"\ntimezone = "Mars/Base"', "'Mars/Base' is not an IANA timezone"),
        ('name = " x"\nasset_class = "equity"\ntimezone = "UTC"', "empty or padded"),
        ('name = "x"\nasset_class = "equity"', "timezone"),
        ('name = "x"\nasset_class = "equity"\ntimezone = "UTC"\ncolour = "red"', "colour"),
    ],
)
def test_invalid_entries_name_the_file_and_entry(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "exchanges.toml"
    path.write_text(f"[[exchange]]\n{entry}\n", encoding="utf-8")
    with pytest.raises(PluginError, match=rf"exchanges\.toml: exchange #1: .*{message}"):
        load_exchanges_toml(path)


def test_invalid_toml_is_a_plugin_error(tmp_path: Path) -> None:
    path = tmp_path / "exchanges.toml"
    path.write_text("[[exchange]\n", encoding="utf-8")
    with pytest.raises(PluginError, match="invalid TOML"):
        load_exchanges_toml(path)


def test_asset_classes_cover_every_market_the_design_names() -> None:
    assert {"crypto_spot", "crypto_derivative", "crypto_option", "equity", "future", "option", "forex"} <= ASSET_CLASSES
