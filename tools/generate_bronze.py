"""Generate realistic, deterministic Tardis-format bronze files and a matching instruments file.

The output looks like what `tardis-dev` downloads produce, so the whole pipeline (infer or sync
dim_symbol, ingest, research) runs on it exactly as on real data:

* files named ``{exchange}_{data_type}_{YYYY-MM-DD}_{symbol}.csv.gz`` with Tardis's exact headers;
* prices are random walks on each instrument's tick grid, printed the way Tardis prints decimals;
* exchange timestamps cluster on milliseconds (35% of events share the previous one, plus bursts) and
  arrival timestamps add a log-normal latency, kept monotone as in arrival-ordered files;
* some quotes are one-sided (an empty bid or ask), as in real books;
* BTCUSDT changes tick size at noon of the first day (a new SCD2 version), SOLUSDT is listed at
  13:00 on the first day, BTCUSDT_240628 is a dated future whose name starts with BTCUSDT;
* ``derivative_ticker`` is one grouped ``PERPETUALS`` file per day holding every perpetual;
* ``instruments/<exchange>.json`` is a Tardis instruments-API response with the ``changes`` history.

Everything derives from ``--seed``: the same arguments give byte-identical files. Sizes scale from
a thousand rows to 100 M (files are generated and gzip-streamed in chunks of at most 1 M rows).

    python tools/generate_bronze.py OUT --days 2 --rows-per-file 50000
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

EXCHANGE = "binance-futures"
US_PER_DAY = 86_400_000_000
CHUNK_ROWS = 1_000_000
TRADES_HEADER = ["exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount"]
QUOTES_HEADER = [
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "ask_amount",
    "ask_price",
    "bid_price",
    "bid_amount",
]
TICKER_HEADER = [
    "exchange", "symbol", "timestamp", "local_timestamp", "funding_timestamp", "funding_rate",
    "predicted_funding_rate", "open_interest", "last_price", "index_price", "mark_price",
]  # fmt: skip


@dataclass(frozen=True)
class Instrument:
    symbol: str
    kind: str  # perpetual | future
    base: str
    start_price: Decimal
    tick: Decimal
    """The tick in force at the end of the generated period (the instruments API's top-level value)."""
    lot: Decimal
    listed_at_us: int | None = None
    """Listing time (no rows before it); None = listed long before the period."""
    earlier_tick: Decimal | None = None
    tick_changed_at_us: int | None = None
    """When ``earlier_tick`` stopped applying and ``tick`` took over."""
    expiry: str | None = None

    def tick_at(self, ts_us: np.ndarray) -> np.ndarray:
        """Tick in units of the finest tick the instrument ever had, per timestamp."""
        finest = self.finest_tick
        current = int(self.tick / finest)
        if self.earlier_tick is None or self.tick_changed_at_us is None:
            return np.full(ts_us.shape, current, dtype=np.int64)
        earlier = int(self.earlier_tick / finest)
        return np.where(ts_us < self.tick_changed_at_us, earlier, current).astype(np.int64)

    @property
    def finest_tick(self) -> Decimal:
        return min(self.tick, self.earlier_tick) if self.earlier_tick is not None else self.tick


def instruments(start: dt.date) -> list[Instrument]:
    day0 = _day_us(start)
    return [
        Instrument(
            "BTCUSDT", "perpetual", "BTC", Decimal("63012.40"), Decimal("0.1"), Decimal("0.001"),
            earlier_tick=Decimal("0.01"), tick_changed_at_us=day0 + 12 * 3_600_000_000,
        ),
        Instrument("ETHUSDT", "perpetual", "ETH", Decimal("3101.27"), Decimal("0.01"), Decimal("0.001")),
        Instrument(
            "SOLUSDT", "perpetual", "SOL", Decimal("142.3100"), Decimal("0.0100"), Decimal("1"),
            listed_at_us=day0 + 13 * 3_600_000_000,
        ),
        Instrument(
            "BTCUSDT_240628", "future", "BTC", Decimal("64420.0"), Decimal("0.1"), Decimal("0.001"),
            expiry="2024-06-28T08:00:00.000Z",
        ),
    ]  # fmt: skip


def _day_us(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * US_PER_DAY


def _iso(ts_us: int) -> str:
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ts_us)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )


# -- vectorised building blocks --------------------------------------------------------------------


def decimal_text(units: pl.Expr, places: int) -> pl.Expr:
    """Integer count of 10**-places as the shortest decimal text (``853150, 2 -> "8531.5"``)."""
    if places == 0:
        return units.cast(pl.String)
    scale = 10**places
    sign = pl.when(units < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (units.abs() // scale).cast(pl.String)
    frac = (units.abs() % scale).cast(pl.String).str.zfill(places).str.strip_chars_end("0")
    return sign + pl.when(frac == "").then(whole).otherwise(whole + "." + frac)


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def clustered_times(rng: np.random.Generator, n: int, start_us: int, end_us: int) -> tuple[np.ndarray, np.ndarray]:
    """(exchange µs, arrival µs) for ``n`` events on [start, end): ms-clustered, bursty, arrival-ordered."""
    span_ms = max(1, (end_us - start_us) // 1000)
    # Bursts: a quarter of events land within 50 ms of a burst centre.
    centres = rng.integers(0, span_ms, size=max(1, n // 400))
    bursty = rng.random(n) < 0.25
    ms = np.where(
        bursty, centres[rng.integers(0, centres.size, n)] + rng.integers(0, 50, n), rng.integers(0, span_ms, n)
    )
    ms = np.sort(np.clip(ms, 0, span_ms - 1))
    repeat = rng.random(n) < 0.35  # trades that share the previous exchange timestamp
    repeat[0] = False
    idx = np.maximum.accumulate(np.where(repeat, 0, np.arange(n)))
    exch = start_us + ms[idx] * 1000
    latency = np.rint(rng.lognormal(mean=np.log(3000), sigma=0.6, size=n)).astype(np.int64)
    local = np.maximum.accumulate(exch + latency)
    local = np.minimum(local, end_us - 1)
    return exch.astype(np.int64), local.astype(np.int64)


def random_walk(
    rng: np.random.Generator, n: int, start: int, tick_units: np.ndarray, daily_vol: float = 0.02
) -> np.ndarray:
    """Mid prices in finest-tick units: a random walk whose steps are multiples of the tick in force.

    The step size gives roughly ``daily_vol`` of movement over the ``n`` events of a day, and about
    half the steps are zero (prices often repeat, as in real prints).
    """
    sigma = max(1.0, start * daily_vol / np.sqrt(max(n, 1)) / float(np.median(tick_units)))
    steps = np.rint(rng.normal(0.0, sigma, size=n)).astype(np.int64) * (rng.random(n) < 0.5) * tick_units
    walk = start + np.cumsum(steps)
    return (walk // tick_units) * tick_units  # snap onto the grid in force (after a tick change too)


# -- per data type ---------------------------------------------------------------------------------


@dataclass
class WalkState:
    """What carries over between chunks and days of one instrument."""

    bid_units: int
    ask_units: int
    next_trade_id: int


def symbol_day_chunks(
    rng: np.random.Generator, inst: Instrument, n: int, start_us: int, end_us: int, state: WalkState
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(quotes, trades) chunks of one instrument-day, ``n`` rows each, at most CHUNK_ROWS per chunk.

    Quotes are a random walk on the tick grid in force; each trade executes at the prevailing quote
    (buys lift the ask, sells hit the bid), so trades and quotes are consistent, as in real markets.
    """
    places = _places(inst.finest_tick)
    lot_places = _places(inst.lot)
    lot_units = int(inst.lot * 10**lot_places)
    for offset in range(0, n, CHUNK_ROWS):
        m = min(CHUNK_ROWS, n - offset)
        lo = start_us + (end_us - start_us) * offset // n
        hi = start_us + (end_us - start_us) * (offset + m) // n
        q_exch, q_local = clustered_times(rng, m, lo, hi)
        ticks = inst.tick_at(q_local)
        bid = random_walk(rng, m, state.bid_units, ticks)
        ask = bid + ticks * rng.integers(1, 6, m)
        sizes = np.maximum(1, np.rint(rng.lognormal(mean=2.0, sigma=1.0, size=(2, m)))).astype(np.int64) * lot_units
        one_sided = rng.random(m)
        quotes = pl.DataFrame(
            {"exchange": EXCHANGE, "symbol": inst.symbol, "timestamp": q_exch, "local_timestamp": q_local,
             "ask_amount": sizes[0], "ask_price": ask, "bid_price": bid, "bid_amount": sizes[1],
             "no_bid": one_sided < 0.005, "no_ask": (one_sided >= 0.005) & (one_sided < 0.01)},
        ).select(
            "exchange", "symbol", "timestamp", "local_timestamp",
            pl.when(~pl.col("no_ask")).then(decimal_text(pl.col("ask_amount"), lot_places)).alias("ask_amount"),
            pl.when(~pl.col("no_ask")).then(decimal_text(pl.col("ask_price"), places)).alias("ask_price"),
            pl.when(~pl.col("no_bid")).then(decimal_text(pl.col("bid_price"), places)).alias("bid_price"),
            pl.when(~pl.col("no_bid")).then(decimal_text(pl.col("bid_amount"), lot_places)).alias("bid_amount"),
        )  # fmt: skip
        t_exch, t_local = clustered_times(rng, m, lo, hi)
        # The quote in force at each trade's arrival (the previous chunk's last quote before the first).
        idx = np.searchsorted(q_local, t_local, side="right") - 1
        prev_bid = np.concatenate(([state.bid_units], bid))
        prev_ask = np.concatenate(([state.ask_units], ask))
        buy = rng.random(m) < 0.5
        price = np.where(buy, prev_ask[idx + 1], prev_bid[idx + 1])
        # A trade just after a tick-size change may meet a quote from before it: it still prints on the
        # grid in force (buys round up to it, sells down), as an exchange's matching engine would.
        grid = inst.tick_at(t_local)
        price = np.where(buy, -((-price) // grid), price // grid) * grid
        state.bid_units, state.ask_units = int(bid[-1]), int(ask[-1])
        lots = np.maximum(1, np.rint(rng.lognormal(mean=1.2, sigma=1.1, size=m))).astype(np.int64)
        ids = np.arange(state.next_trade_id, state.next_trade_id + m)
        state.next_trade_id += m
        trades = pl.DataFrame(
            {"exchange": EXCHANGE, "symbol": inst.symbol, "timestamp": t_exch, "local_timestamp": t_local,
             "id": ids.astype(str), "side": np.where(buy, "buy", "sell"), "price": price, "amount": lots * lot_units},
        ).with_columns(price=decimal_text(pl.col("price"), places), amount=decimal_text(pl.col("amount"), lot_places))  # fmt: skip
        yield quotes, trades


def perpetuals_ticker(
    rng: np.random.Generator, perps: list[Instrument], day: dt.date, rows_per_symbol: int
) -> pl.DataFrame:
    """One grouped PERPETUALS derivative_ticker day: every perpetual's rows interleaved by arrival."""
    day0 = _day_us(day)
    frames = []
    for inst in perps:
        start = max(day0, inst.listed_at_us or day0)
        if start >= day0 + US_PER_DAY:
            continue
        n = max(1, rows_per_symbol * (day0 + US_PER_DAY - start) // US_PER_DAY)
        exch, local = clustered_times(rng, n, start, day0 + US_PER_DAY)
        base = float(inst.start_price)
        index = base * np.exp(np.cumsum(rng.normal(0, 2e-5, n)))
        funding_ts = (local // (8 * 3_600_000_000) + 1) * 8 * 3_600_000_000
        frames.append(
            pl.DataFrame(
                {"exchange": EXCHANGE, "symbol": inst.symbol, "timestamp": exch, "local_timestamp": local,
                 "funding_timestamp": funding_ts, "funding_rate": np.round(rng.normal(1e-4, 5e-5, n), 8),
                 "predicted_funding_rate": np.round(rng.normal(1e-4, 5e-5, n), 8),
                 "open_interest": np.round(rng.uniform(1e4, 9e4, n), 3), "last_price": np.round(index, 1),
                 "index_price": np.round(index, 2), "mark_price": np.round(index * (1 + rng.normal(0, 1e-5, n)), 2)},
            )
        )  # fmt: skip
    return pl.concat(frames).sort("local_timestamp", maintain_order=True)


# -- files -------------------------------------------------------------------------------------------


class GzCsvWriter:
    """A gzip CSV with a fixed header, written to ``.part`` and renamed when complete.

    mtime 0 in the gzip header keeps the bytes deterministic.
    """

    def __init__(self, path: Path, header: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.header, self.rows = path, header, 0
        self._tmp = path.with_name(path.name + ".part")
        self._raw = self._tmp.open("wb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0, compresslevel=6)
        self._gz.write((",".join(header) + "\n").encode())

    def write(self, chunk: pl.DataFrame) -> None:
        self._gz.write(chunk.select(self.header).write_csv(include_header=False, float_scientific=False).encode())
        self.rows += chunk.height

    def close(self) -> int:
        self._gz.close()
        self._raw.close()
        self._tmp.replace(self.path)
        return self.rows


def instruments_json(insts: list[Instrument], start: dt.date) -> list[dict[str, object]]:
    """A Tardis instruments-API response: current values on top, history in ``changes``."""
    out = []
    for inst in insts:
        since = inst.listed_at_us if inst.listed_at_us is not None else _day_us(dt.date(2019, 9, 1))
        entry: dict[str, object] = {
            "id": inst.symbol, "datasetId": inst.symbol, "exchange": EXCHANGE, "baseCurrency": inst.base,
            "quoteCurrency": "USDT", "type": inst.kind, "active": True, "availableSince": _iso(since),
            "listing": _iso(since), "priceIncrement": float(inst.tick), "amountIncrement": float(inst.lot),
            "minTradeAmount": float(inst.lot), "makerFee": 0.0002, "takerFee": 0.0005, "inverse": False,
            "contractMultiplier": 1, "settlementCurrency": "USDT",
        }  # fmt: skip
        if inst.expiry:
            entry["expiry"] = inst.expiry
        if inst.earlier_tick is not None and inst.tick_changed_at_us is not None:
            entry["changes"] = [{"until": _iso(inst.tick_changed_at_us), "priceIncrement": float(inst.earlier_tick)}]
        out.append(entry)
    return out


def generate(out: Path, *, start: dt.date, days: int, rows_per_file: int, seed: int) -> dict[str, int]:
    """Write bronze files under ``out/bronze/tardis`` and ``out/instruments``; returns rows per data type."""
    rng = np.random.default_rng(seed)
    insts = instruments(start)
    bronze = out / "bronze" / "tardis"
    totals = {"trades": 0, "quotes": 0, "derivative_ticker": 0}
    state = {}
    for inst in insts:
        start_units = int(inst.start_price / inst.finest_tick)
        state[inst.symbol] = WalkState(start_units, start_units + int(inst.tick / inst.finest_tick), 1_000_000)
    for d in range(days):
        day = start + dt.timedelta(days=d)
        day0 = _day_us(day)
        for inst in insts:
            begin = max(day0, inst.listed_at_us or day0)
            if begin >= day0 + US_PER_DAY:
                continue
            n = max(1, rows_per_file * (day0 + US_PER_DAY - begin) // US_PER_DAY)
            name = f"{EXCHANGE}_{{}}_{day.isoformat()}_{inst.symbol}.csv.gz"
            quotes = GzCsvWriter(bronze / name.format("quotes"), QUOTES_HEADER)
            trades = GzCsvWriter(bronze / name.format("trades"), TRADES_HEADER)
            for quote_chunk, trade_chunk in symbol_day_chunks(
                rng, inst, n, begin, day0 + US_PER_DAY, state[inst.symbol]
            ):
                quotes.write(quote_chunk)
                trades.write(trade_chunk)
            totals["quotes"] += quotes.close()
            totals["trades"] += trades.close()
        ticker = perpetuals_ticker(rng, [i for i in insts if i.kind == "perpetual"], day, max(10, rows_per_file // 20))
        writer = GzCsvWriter(
            bronze / f"{EXCHANGE}_derivative_ticker_{day.isoformat()}_PERPETUALS.csv.gz", TICKER_HEADER
        )
        writer.write(ticker)
        totals["derivative_ticker"] += writer.close()
    meta = out / "instruments" / f"{EXCHANGE}.json"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps(instruments_json(insts, start), indent=2) + "\n")
    return totals


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="Output directory (bronze/tardis/ and instruments/ are created in it).")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2024, 5, 1), help="First UTC day.")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--rows-per-file", type=int, default=50_000, help="Rows per full symbol-day file.")
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args(argv)
    totals = generate(args.out, start=args.start, days=args.days, rows_per_file=args.rows_per_file, seed=args.seed)
    print(", ".join(f"{k}: {v:,} rows" for k, v in totals.items()), f"-> {args.out}")


if __name__ == "__main__":
    main()
