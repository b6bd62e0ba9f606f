"""Named checkpoints of the ingestion pipeline, where crash-recovery tests inject faults.

The pipeline calls its fault hook at every step whose interruption must be survivable: a crash there,
followed by a re-run, has to leave the lake exactly as one clean ingest would. Production runs pass no
hook. Tests pass a callable that raises :class:`SimulatedCrash` (in-process), or set the environment
variable ``POINTLINE_FAULT=<checkpoint>`` (optionally ``<checkpoint>@<n>`` for the n-th time it is
reached) to make a real ``pointline`` process die on the spot with ``os._exit``, as a power cut would.
A hook passed as a callable applies to the coordinating process and to units it runs itself; worker
processes (``--workers``) only see ``POINTLINE_FAULT``, which they inherit.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Final

AFTER_DISCOVER: Final = "after_discover"
"""Bronze candidates are known and hashed; nothing is written yet."""
AFTER_MINT: Final = "after_mint"
"""New file ids are minted and their ``pending`` manifest rows committed."""
AFTER_PARSE: Final = "after_parse"
"""A work unit is parsed, resolved, encoded and validated, before any of it is written."""
MID_SILVER_WRITE: Final = "mid_silver_write"
"""Some chunks of a streamed silver commit have been handed to the writer, the commit is not done."""
AFTER_SILVER_COMMIT: Final = "after_silver_commit"
"""The unit's silver rows are committed; its quarantine rows are not."""
AFTER_QUARANTINE_COMMIT: Final = "after_quarantine_commit"
"""Silver and quarantine rows are committed."""
BEFORE_MANIFEST_UPDATE: Final = "before_manifest_update"
"""The unit's partitions are in the dq journal; its manifest statuses are not written."""
AFTER_MANIFEST_UPDATE: Final = "after_manifest_update"
"""The unit's manifest statuses are committed; its validation-log records are not."""
AFTER_VALIDATION_LOG: Final = "after_validation_log"
"""The unit's validation-log records are committed."""
BEFORE_DQ: Final = "before_dq"
"""Every unit is done; the journalled dq_summary partitions are not recomputed yet."""

CHECKPOINTS: Final = (
    AFTER_DISCOVER,
    AFTER_MINT,
    AFTER_PARSE,
    MID_SILVER_WRITE,
    AFTER_SILVER_COMMIT,
    AFTER_QUARANTINE_COMMIT,
    BEFORE_MANIFEST_UPDATE,
    AFTER_MANIFEST_UPDATE,
    AFTER_VALIDATION_LOG,
    BEFORE_DQ,
)

FaultHook = Callable[[str], None]
"""Called with a checkpoint name; raising (or exiting) there simulates a crash at that step."""

ENV_VAR: Final = "POINTLINE_FAULT"
CRASH_EXIT_CODE: Final = 86


class SimulatedCrash(BaseException):
    """Raised by test fault hooks. A ``BaseException`` so no per-file error handling can swallow it."""


def crash_at(checkpoint: str, *, nth: int = 1) -> FaultHook:
    """A hook that raises :class:`SimulatedCrash` the ``nth`` time ``checkpoint`` is reached."""
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"unknown checkpoint {checkpoint!r} (known: {', '.join(CHECKPOINTS)})")
    seen = 0

    def hook(name: str) -> None:
        nonlocal seen
        if name == checkpoint:
            seen += 1
            if seen == nth:
                raise SimulatedCrash(checkpoint)

    return hook


def from_environment() -> FaultHook | None:
    """The hook described by ``POINTLINE_FAULT``, or None when it is unset.

    The process exits with code 86 without unwinding (no ``finally`` blocks, no flushing of Delta
    writers), which is what a killed process looks like to the lake.
    """
    spec = os.environ.get(ENV_VAR, "").strip()
    if not spec:
        return None
    checkpoint, _, nth_text = spec.partition("@")
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"{ENV_VAR}={spec!r}: unknown checkpoint (known: {', '.join(CHECKPOINTS)})")
    nth = int(nth_text) if nth_text else 1
    seen = 0

    def hook(name: str) -> None:
        nonlocal seen
        if name == checkpoint:
            seen += 1
            if seen == nth:
                sys.stderr.write(f"{ENV_VAR}: simulated crash at {checkpoint}\n")
                sys.stderr.flush()
                os._exit(CRASH_EXIT_CODE)

    return hook


def combine(*hooks: FaultHook | None) -> FaultHook:
    """One hook calling every given hook in order (None entries are ignored)."""
    active = [h for h in hooks if h is not None]

    def hook(name: str) -> None:
        for h in active:
            h(name)

    return hook
