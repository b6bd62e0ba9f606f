"""Shared benchmark plumbing: timing, the machine description, and the RESULTS.md table.

Every benchmark measures Pointline against a raw Polars/Parquet baseline *in the same run* and
reports the ratio: absolute times on shared 2-core machines swing by ±30%, ratios much less.
Benchmarks are not tests: nothing here asserts a time.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
RESULTS = Path(__file__).with_name("RESULTS.md")
RATIO_HEADER = "ratio (>1 = Pointline better)"
"""Ratios are oriented so that > 1 favours Pointline: faster, smaller or leaner than the baseline."""


@dataclass(frozen=True)
class Result:
    """One benchmark line: Pointline's figure, the baseline's, and the target it is judged by."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    """The raw baseline in the same unit, measured in the same run (None when there is none)."""
    higher_is_better: bool = True
    target: str = ""
    """The issue's target, in words (e.g. ">= 0.5x raw")."""
    meets_target: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Pointline relative to the baseline, oriented so that > 1 means Pointline is better."""
        if self.baseline is None or self.baseline == 0 or self.value == 0:
            return None
        return self.value / self.baseline if self.higher_is_better else self.baseline / self.value


def best_of(func: Callable[[], T], repeat: int = 3) -> tuple[float, T]:
    """Minimum wall time of ``repeat`` runs (the least noisy estimator here) and the last result."""
    times = []
    result: T | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    assert result is not None or repeat > 0
    return min(times), result  # type: ignore[return-value]


def median_of(func: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    """Cores, memory, CPU model and library versions, for the results header."""
    import deltalake
    import polars

    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, Python {platform.python_version()}, "
        f"polars {polars.__version__}, deltalake {deltalake.__version__}"
    )


def peak_rss_children_mib() -> float:
    """Peak RSS of the largest finished child process, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def print_results(title: str, results: Sequence[Result]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold cyan")
    for col in ("benchmark", "pointline", "raw baseline", RATIO_HEADER, "target", "ok"):
        table.add_column(col)
    for r in results:
        table.add_row(*_cells(r))
    Console().print(table)


def format_value(value: float | None, unit: str) -> str:
    """A figure with its unit, readable: thousands separated above 1,000, three significant digits below."""
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def _cells(r: Result) -> list[str]:
    ok = {True: "yes", False: "NO", None: "-"}[r.meets_target]
    ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
    note = f" ({r.note})" if r.note else ""
    return [r.name + note, format_value(r.value, r.unit), format_value(r.baseline, r.unit), ratio, r.target, ok]


def write_results(
    sections: Mapping[str, Sequence[Result]],
    command: str,
    path: Path = RESULTS,
    *,
    notes: Mapping[str, str] | None = None,
    preamble: str = "",
) -> None:
    """Write every section as a Markdown table, with the date, command and machine.

    ``notes`` adds Markdown under a section's table (diagnostics, e.g. bytes per column); ``preamble``
    goes above the first section (e.g. a summary of the targets).
    """
    notes = notes or {}
    lines = [
        "# Benchmark results",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- command: `{command}`",
        f"- machine: {machine()}",
        "",
        "Ratios compare Pointline with a raw Polars/Parquet baseline measured in the same run, oriented so "
        "that > 1 favours Pointline; absolute figures on shared machines vary by about ±30% run to run.",
        "",
    ]
    if preamble:
        lines += [preamble.rstrip(), ""]
    for title, results in sections.items():
        lines += [
            f"## {title}",
            "",
            f"| benchmark | pointline | raw baseline | {RATIO_HEADER} | target | ok |",
            "|---|---|---|---|---|---|",
        ]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in results]
        lines.append("")
        if title in notes:
            lines += [notes[title].rstrip(), ""]
    path.write_text("\n".join(lines) + "\n")
