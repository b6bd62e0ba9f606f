"""The ``pointline`` command line.

Core and every installed plugin add their commands through ``pointline_register_commands``. A user
error (any :class:`~pointline.errors.PointlineError`) prints one red line and exits 2; a bug keeps its
traceback.
"""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.text import Text

from pointline.errors import PointlineError

# Rich help keeps line breaks as written, so each paragraph is one line here and wraps to the terminal.
HELP = """Pointline: an exact, point-in-time-correct research data lake.

Vendor files land in bronze (LAKE/bronze/VENDOR/...); `pointline ingest run` turns them into exact Delta tables; the research API and `pointline query`/`sql` read them.

The lake root is --lake, else $POINTLINE_LAKE, else lake_root in ~/.config/pointline/config.toml, else ./lake.

Examples:

  pointline plugins                 which vendors and tables are installed
  pointline schema show trades      columns, partitioning and lineage of a table
  pointline ingest run              ingest every new bronze file
"""

err_console = Console(stderr=True)


def build_app() -> typer.Typer:
    """The CLI with core's and every plugin's commands."""
    from pointline.plugins.host import get_host

    app = typer.Typer(
        name="pointline",
        help=HELP,
        no_args_is_help=True,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def _root(
        lake: str | None = typer.Option(
            None,
            "--lake",
            help="Lake root directory (overrides $POINTLINE_LAKE and the config file).",
            show_default=False,
        ),
    ) -> None:
        if lake:
            # Every command resolves the lake through pointline.config, which reads this variable.
            os.environ["POINTLINE_LAKE"] = lake

    get_host().register_commands(app)
    return app


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app = build_app()
        app(args=argv, prog_name="pointline", standalone_mode=True)
    except PointlineError as exc:
        err_console.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        sys.exit(2)
