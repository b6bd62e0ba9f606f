"""`pointline dim ...`: populate dimension tables from registered data."""

from __future__ import annotations

import datetime as dt

import typer

from pointline.cli.common import console, current_lake
from pointline.dims import calendar, dim_exchange
from pointline.plugins.host import get_host


def register(app: typer.Typer) -> None:
    dim_app = typer.Typer(help="Populate dimension tables (dim_exchange, dim_trading_calendar).", no_args_is_help=True)
    dim_app.command("populate-exchange", help="Write dim_exchange from the exchanges installed plugins register.")(
        populate_exchange
    )
    dim_app.command(
        "populate-calendar", help="Write dim_trading_calendar for a date range (offline, exchange_calendars)."
    )(populate_calendar)
    app.add_typer(dim_app, name="dim")


def populate_exchange() -> None:
    n = dim_exchange.populate(current_lake(), get_host())
    console.print(f"dim_exchange: wrote {n} exchanges")


def populate_calendar(
    start: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last day (inclusive), YYYY-MM-DD."),
    exchange: list[str] = typer.Option(None, "--exchange", help="Only these exchanges (repeatable); default all."),
) -> None:
    host = get_host()
    chosen = [host.exchange(e) for e in exchange] if exchange else list(host.exchanges.values())
    n = calendar.populate(current_lake(), chosen, dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    console.print(f"dim_trading_calendar: wrote {n} rows for {len(chosen)} exchanges")
