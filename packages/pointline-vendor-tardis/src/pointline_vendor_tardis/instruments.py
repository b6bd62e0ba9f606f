"""Tardis instruments metadata -> dim_symbol SCD2 versions.

Source: ``GET {TARDIS_API_URL}/v1/instruments/{exchange}`` (a JSON list of camelCase objects; pro and
business keys only) or a saved copy of that response (``--from-file``).

Rules (vendor-formats.md section 1.x):

* ``exchange_symbol`` is the instrument ``id`` in upper case: the CSV ``symbol`` column is "always upper
  case" and carries the id, while ``datasetId`` only names the dataset files.
* Increments are exact: the JSON is parsed with numbers as :class:`~decimal.Decimal` (never through a
  float), and numbers sent as strings are read as decimals too.
* ``changes[]`` entries give the values *as they were until* their ``until``. Sorted by ``until``, the
  windows are ``[start, u1), [u1, u2), ..., [un, MAX_TS)``: the last one has the top-level (current)
  values, and window ``[u(k-1), uk)`` has entry k's fields over whatever the next later window had, so a
  field an entry does not mention carries back from the nearest later entry (or the top level).
  Consecutive windows that agree on every stored field (increments and contract multiplier) are merged:
  a fee change is not a new dim_symbol version.
* The first version starts at ``min(listing, availableSince)``. ``availableSince`` is when Tardis began
  collecting the instrument (a file for that UTC day can start hours before the exchange's listing
  instant), ``listing`` is when the exchange listed it (it can precede Tardis's coverage by years): the
  earlier of the two makes every row Tardis can deliver resolvable. Versions stay open at the end (a
  delisted instrument simply has no more rows).
* Types other than spot, perpetual, future and option (``combo``, ...) are skipped and counted, as are
  instruments of another exchange, ids that repeat, and increments that are missing, not positive, or
  finer than 1e-18 (the codec's limit). None of these abort a sync.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx
import polars as pl
from pointline.dims.dim_symbol import versions_frame
from pointline.errors import ConfigError, DownloadError, PointlineError
from pointline.timeutil import MAX_TS, from_us, to_us

from pointline_vendor_tardis.retry import RETRYABLE_STATUS, RetryPolicy, retry_after_seconds
from pointline_vendor_tardis.settings import Settings

SOURCE = "tardis"
TYPES: dict[str, tuple[str, str]] = {
    "spot": ("spot", "crypto_spot"),
    "perpetual": ("perpetual", "crypto_derivative"),
    "future": ("future", "crypto_derivative"),
    "option": ("option", "crypto_option"),
}
"""Tardis ``type`` -> (dim_symbol instrument_type, asset_class)."""
VERSIONED = ("price_increment", "amount_increment", "contract_multiplier")
"""Fields ``changes[]`` can alter that dim_symbol stores."""
_CHANGE_FIELDS = {
    "priceIncrement": "price_increment",
    "amountIncrement": "amount_increment",
    "contractMultiplier": "contract_multiplier",
}
_MAX_DECIMAL = Decimal(10) ** 20
_MIN_EXPONENT = -18


class Skip(Exception):
    """An instrument that is left out of the sync, with the reason it is counted under."""


@dataclass(frozen=True)
class SyncResult:
    """What a sync produced: the versions, and how many instruments were read and skipped (by reason)."""

    exchange: str
    versions: pl.DataFrame
    instruments: int
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def symbols(self) -> int:
        return self.versions.select("exchange_symbol").n_unique() if self.versions.height else 0


# -- reading the payload ------------------------------------------------------------------------------


def parse_json(text: str | bytes, *, where: str) -> list[dict[str, Any]]:
    """Decode an instruments response, keeping every number exact (``Decimal``), into a list of objects."""
    try:
        payload = json.loads(text, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PointlineError(f"{where}: not valid JSON ({exc})") from None
    if isinstance(payload, dict):
        payload = [payload]  # the one-instrument endpoint returns a single object
    if not isinstance(payload, list) or not all(isinstance(i, dict) for i in payload):
        raise PointlineError(f"{where}: expected a JSON list of instrument objects")
    return payload


def _decimal(value: Any, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Skip(f"invalid {name}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise Skip(f"invalid {name}") from None
    if not number.is_finite():
        raise Skip(f"invalid {name}")
    return number


def _increment(value: Any, name: str) -> Decimal:
    number = _decimal(value, name)
    if number is None or number <= 0:
        raise Skip(f"missing or non-positive {name}")
    exponent = number.normalize().as_tuple().exponent
    if not isinstance(exponent, int) or exponent < _MIN_EXPONENT or number >= _MAX_DECIMAL:
        raise Skip(f"{name} outside the exact range (1e-18 .. 1e20)")
    return number


def _time(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return to_us(str(value))
    except PointlineError:
        raise Skip(f"invalid {name}") from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _windows(inst: dict[str, Any], start: int) -> list[tuple[int, int, dict[str, Decimal | None]]]:
    """``[(valid_from, valid_until, versioned fields)]`` oldest first, from the top level and ``changes[]``."""
    current: dict[str, Decimal | None] = {
        "price_increment": _increment(inst.get("priceIncrement"), "priceIncrement"),
        "amount_increment": _increment(inst.get("amountIncrement"), "amountIncrement"),
        "contract_multiplier": _decimal(inst.get("contractMultiplier"), "contractMultiplier"),
    }
    changes = inst.get("changes") or []
    if not isinstance(changes, list):
        raise Skip("invalid changes")
    # Entries with the same `until` describe one window; entries at or before the start describe a time
    # before the instrument's first version and cannot hold any row.
    by_until: dict[int, dict[str, Decimal | None]] = {}
    for entry in changes:
        if not isinstance(entry, dict):
            raise Skip("invalid changes")
        until = _time(entry.get("until"), "changes.until")
        if until is None:
            raise Skip("invalid changes.until")
        if until <= start:
            continue
        fields = by_until.setdefault(until, {})
        for key, name in _CHANGE_FIELDS.items():
            if key in entry and entry[key] is not None:
                fields[name] = (
                    _decimal(entry[key], key) if name == "contract_multiplier" else _increment(entry[key], key)
                )
    untils = sorted(by_until)
    windows: list[tuple[int, int, dict[str, Decimal | None]]] = []
    state = current
    upper = MAX_TS
    for i in range(len(untils) - 1, -1, -1):
        windows.append((untils[i], upper, state))
        upper = untils[i]
        state = {**state, **by_until[untils[i]]}
    windows.append((start, upper, state))
    windows.reverse()
    merged: list[tuple[int, int, dict[str, Decimal | None]]] = []
    for lo, hi, values in windows:
        if merged and merged[-1][2] == values:
            merged[-1] = (merged[-1][0], hi, values)
        else:
            merged.append((lo, hi, values))
    return merged


def instrument_rows(inst: dict[str, Any], exchange: str) -> list[dict[str, object]]:
    """dim_symbol version rows of one instrument (raises :class:`Skip` with the reason to count)."""
    kind = str(inst.get("type", "")).strip().lower()
    if kind not in TYPES:
        raise Skip(f"unsupported type {kind or '(none)'}")
    symbol = _text(inst.get("id"))
    if symbol is None:
        raise Skip("missing id")
    instrument_type, asset_class = TYPES[kind]
    available = _time(inst.get("availableSince"), "availableSince")
    listing = _time(inst.get("listing"), "listing")
    starts = [t for t in (available, listing) if t is not None]
    start = min(starts) if starts else 0
    expiry = _time(inst.get("expiry"), "expiry")
    base = _text(inst.get("baseCurrency"))
    option_type = _text(inst.get("optionType"))
    common: dict[str, object] = {
        "exchange": exchange,
        "exchange_symbol": symbol.upper(),
        "asset_class": asset_class,
        "instrument_type": instrument_type,
        "base_asset": base,
        "quote_asset": _text(inst.get("quoteCurrency")),
        "settle_asset": _text(inst.get("settlementCurrency")),
        "is_inverse": inst.get("inverse") if isinstance(inst.get("inverse"), bool) else None,
        "expiry_ts_us": expiry,
        "underlying": _text(inst.get("underlyingIndex")) or (base if kind != "spot" else None),
        "strike": _decimal(inst.get("strikePrice"), "strikePrice"),
        "put_call": option_type.lower() if option_type else None,
        "contract_month": _contract_month(expiry) if kind == "future" else None,
        "source": SOURCE,
        "is_inferred": False,
    }
    return [{**common, **values, "valid_from_ts": lo, "valid_until_ts": hi} for lo, hi, values in _windows(inst, start)]


def _contract_month(expiry_us: int | None) -> str | None:
    if expiry_us is None:
        return None
    return from_us(expiry_us).strftime("%Y-%m")


def versions_from_instruments(instruments: list[dict[str, Any]], exchange: str) -> SyncResult:
    """Turn instrument objects of ``exchange`` into dim_symbol versions, counting what was skipped."""
    skipped: Counter[str] = Counter()
    chosen: dict[str, tuple[tuple[bool, int], list[dict[str, object]]]] = {}
    for inst in instruments:
        inst_exchange = str(inst.get("exchange") or exchange).strip().lower()
        if inst_exchange != exchange:
            skipped[f"other exchange ({inst_exchange})"] += 1
            continue
        try:
            rows = instrument_rows(inst, exchange)
        except Skip as reason:
            skipped[str(reason)] += 1
            continue
        symbol = str(rows[0]["exchange_symbol"])
        # An id listed twice (case variants, re-used symbols) keeps its active / most recent listing.
        start = rows[0]["valid_from_ts"]
        rank = (bool(inst.get("active")), start if isinstance(start, int) else 0)
        if symbol in chosen:
            skipped["duplicate id"] += 1
            if chosen[symbol][0] >= rank:
                continue
        chosen[symbol] = (rank, rows)
    rows = [row for _, (_, symbol_rows) in sorted(chosen.items()) for row in symbol_rows]
    return SyncResult(exchange=exchange, versions=versions_frame(rows), instruments=len(instruments), skipped=skipped)


# -- fetching -----------------------------------------------------------------------------------------


def fetch(
    exchange: str, settings: Settings, *, policy: RetryPolicy | None = None, client: httpx.Client | None = None
) -> bytes:
    """The instruments JSON of ``exchange`` from the API (with retries). Needs ``TARDIS_API_KEY``."""
    if not settings.api_key:
        raise ConfigError(
            "TARDIS_API_KEY is not set: the instruments API needs a key. Use `--from-file` with a saved "
            "instruments JSON, or `pointline tardis symbols infer` to derive provisional symbols from bronze"
        )
    policy = policy or RetryPolicy()
    url = f"{settings.api_url}/v1/instruments/{exchange}"
    own = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True)
    try:
        for attempt in range(1, policy.max_attempts + 1):
            retry_after: float | None = None
            try:
                response = http.get(url, headers=settings.auth_headers())
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}"
            else:
                if response.status_code == 200:
                    return response.content
                if response.status_code in (401, 403):
                    raise DownloadError(
                        f"GET {url}: HTTP {response.status_code}: the API key was refused (the instruments API "
                        "needs a pro or business key); use --from-file or `pointline tardis symbols infer`"
                    )
                if response.status_code not in RETRYABLE_STATUS:
                    raise DownloadError(f"GET {url}: HTTP {response.status_code}: {response.text[:200]}")
                failure = f"HTTP {response.status_code}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt == policy.max_attempts:
                raise DownloadError(f"GET {url}: gave up after {attempt} attempts (last: {failure})")
            policy.sleep(policy.delay(attempt, retry_after))
        raise AssertionError("unreachable")
    finally:
        if own:
            http.close()


def load(
    exchange: str,
    *,
    source_file: Path | None = None,
    settings: Settings | None = None,
    policy: RetryPolicy | None = None,
) -> SyncResult:
    """Versions of ``exchange`` from a saved JSON file, or else from the API."""
    exchange = exchange.strip().lower()
    if source_file is not None:
        try:
            text = source_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{source_file}: cannot read instruments file ({exc.strerror})") from None
        where = str(source_file)
    else:
        settings = settings or Settings.from_env()
        text = fetch(exchange, settings, policy=policy)
        where = f"{settings.api_url}/v1/instruments/{exchange}"
    return versions_from_instruments(parse_json(text, where=where), exchange)
