"""Reading a gzip file whole with Polars gives exactly what streaming it block by block gives.

Files small enough are inflated and parsed by Polars in one call (faster than Python's zlib); every
frame, line number and error must be the same as on the streaming path, which is forced here by
setting the size limit to zero.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest
from pointline.errors import BronzeFormatError

from pointline_vendor_tardis import csvread, parsers

T0 = 1583020803145000
TRADES = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
QUOTES = "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"


def _write(path: Path, header: str, lines: list[str]) -> Path:
    path.write_bytes(gzip.compress(("\n".join([header, *lines]) + "\n").encode()))
    return path


def _trades(n: int) -> list[str]:
    sides = ("buy", "sell", "unknown")
    return [
        f"bitmex,XBTUSD,{T0 + i},{T0 + i + 100},id{i},{sides[i % 3]},{8531 + i % 7}.5,{i % 11 + 1}" for i in range(n)
    ]


def _both(path: Path, data_type: str, batch_rows: int | None, monkeypatch: pytest.MonkeyPatch) -> tuple:  # type: ignore[type-arg]
    """(whole-file frames, streamed frames), each concatenated, or the error each raised."""
    out = []
    for limit in (csvread.WHOLE_GZIP_BYTES, 0):
        monkeypatch.setattr(csvread, "WHOLE_GZIP_BYTES", limit)
        try:
            frames = list(parsers.iter_parse(path, data_type, batch_rows=batch_rows))
            out.append(pl.concat(frames))
        except BronzeFormatError as exc:
            out.append(str(exc))
    return tuple(out)


def test_the_whole_file_path_is_taken_for_a_mid_sized_gzip(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv.gz", TRADES, _trades(5000))
    schema = parsers.data_type("trades")
    whole = csvread.CsvFile(path)._whole_gzip(schema.typed, [f.source for f in schema.all_fields])
    assert whole is not None
    assert whole.height == 5000


@pytest.mark.parametrize("batch_rows", [None, 700])
def test_trades_with_blank_lines_are_identical(
    tmp_path: Path, batch_rows: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _trades(5000)
    lines[10:10] = ["", ""]  # blank lines hold no row but count as physical lines
    lines.insert(3000, "")
    whole, streamed = _both(_write(tmp_path / "t.csv.gz", TRADES, lines), "trades", batch_rows, monkeypatch)
    assert isinstance(whole, pl.DataFrame)
    assert whole.height == 5000
    assert whole.equals(streamed)
    assert whole["file_line_number"][10] == 14  # line 1 is the header, 12 and 13 are blank


@pytest.mark.parametrize("batch_rows", [None, 700])
def test_one_sided_quotes_with_an_empty_last_column_are_identical(
    tmp_path: Path, batch_rows: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        f"deribit,BTC-PERPETUAL,{T0 + i},{T0 + i + 5},{i % 9 + 1},{9000 + i % 5}.5,{8990 + i % 5}.5,"
        + ("" if i % 17 == 0 else str(i % 4 + 1))
        for i in range(5000)
    ]
    whole, streamed = _both(_write(tmp_path / "q.csv.gz", QUOTES, lines), "quotes", batch_rows, monkeypatch)
    assert isinstance(whole, pl.DataFrame)
    assert whole["bid_qty"].null_count() == 295
    assert whole.equals(streamed)


def _short_row(lines: list[str]) -> list[str]:
    lines[4000] = lines[4000].rsplit(",", 1)[0]
    return lines


def _bad_int(lines: list[str]) -> list[str]:
    lines[2500] = lines[2500].replace(f",{T0 + 2500},", ",12x,", 1)
    return lines


@pytest.mark.parametrize("damage", [_short_row, _bad_int])
def test_bad_rows_fail_with_the_same_error(tmp_path: Path, damage: object, monkeypatch: pytest.MonkeyPatch) -> None:
    assert callable(damage)
    path = _write(tmp_path / "t.csv.gz", TRADES, damage(_trades(5000)))
    whole, streamed = _both(path, "trades", None, monkeypatch)
    assert isinstance(whole, str)
    assert whole == streamed
    assert any(f".csv.gz:{line}" in whole for line in (4002, 2502))  # the damaged line, named


def test_a_truncated_gzip_fails_with_the_same_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "t.csv.gz", TRADES, _trades(20000))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    whole, streamed = _both(path, "trades", None, monkeypatch)
    assert isinstance(whole, str)
    assert whole == streamed
    assert "truncated or corrupt gzip stream" in whole
