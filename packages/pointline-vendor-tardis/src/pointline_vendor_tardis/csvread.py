"""Reading Tardis CSV files (gzip or plain) into Polars frames with physical line numbers.

A file is read as a stream of byte blocks, each cut at a line end and parsed by Polars on its own, so
memory is bounded by the block size whatever the file size. Every row keeps ``file_line_number``: its
physical line in the file (the header is line 1), counted before anything is filtered.

Fixed-point columns are read as text (never through a float) and every other column with the type the
caller asks for. Bad input is a :class:`~pointline.errors.BronzeFormatError` naming the file, the line
and the column: an empty file, a truncated or corrupt gzip stream, a missing column, a row with too
many or too few fields, or a cell that does not parse as its column's type.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import polars as pl
from pointline.errors import BronzeFormatError

LINE = "file_line_number"
GZIP_MAGIC = b"\x1f\x8b"
MIN_BLOCK_BYTES = 1 << 16
MAX_BLOCK_BYTES = 1 << 28
_FIRST_GUESS_BYTES_PER_ROW = 96
IN_CHUNK_BYTES = 1 << 20
"""Compressed bytes read per step."""
WHOLE_GZIP_BYTES = 32 << 20
WHOLE_TEXT_BYTES = 256 << 20
"""A gzip file up to 32 MiB whose trailer says at most 256 MiB of text is read whole by Polars.

Polars inflates gzip about 2.3x faster than Python's zlib (measured 0.37 vs 0.86 CPU s for 175 MB of
trades text) and parses the text in the same call; streaming, which holds one block at a time, is for
the larger files. The trailer's size is that of the last gzip member only, so the compressed size is
capped as well (CSV compresses 6-10x: about 0.5 GB of text at most)."""
# A byte that never occurs in Tardis CSV: used to read each line as one text cell when locating errors.
_WHOLE_LINE = "\x01"


class _Gunzip:
    """Streaming gzip decompression fed with large reads.

    ``gzip.GzipFile`` reads its input 8 KiB at a time; zlib on 1 MiB input chunks measured faster. The
    gzip trailer (CRC-32 and length) is still checked by zlib, output is capped per read so blocks keep
    their requested size, and concatenated members are decoded one after another, as ``gunzip`` does.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.inflater = zlib.decompressobj(wbits=31)
        self.pending = b""
        """Compressed input not yet fed to zlib."""

    def read_parts(self, size: int | None) -> list[bytes]:
        """Up to ``size`` decompressed bytes (all the rest when None) as pieces; empty only at the end."""
        parts: list[bytes] = []
        have = 0
        while size is None or have < size:
            if not self.pending:
                self.pending = self.raw.read(IN_CHUNK_BYTES)
                if not self.pending:
                    if not self.inflater.eof:
                        raise EOFError("compressed stream ended before its end-of-stream marker")
                    break
            if self.inflater.eof:  # another gzip member follows the one just finished
                self.inflater = zlib.decompressobj(wbits=31)
            out = self.inflater.decompress(self.pending, 0 if size is None else size - have)
            self.pending = self.inflater.unused_data if self.inflater.eof else self.inflater.unconsumed_tail
            if out:
                parts.append(out)
                have += len(out)
        return parts


class _Plain:
    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw

    def read_parts(self, size: int | None) -> list[bytes]:
        data = self.raw.read() if size is None else self.raw.read(size)
        return [data] if data else []


class CsvFile:
    """One Tardis CSV file: its header, and its rows in blocks of parsed frames."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._where = str(path)
        self._block_bytes: int | None = None

    def error(self, message: str, *, line: int | None = None, column: str | None = None) -> BronzeFormatError:
        return BronzeFormatError(message, path=self._where, line=line, column=column)

    # -- raw bytes -------------------------------------------------------------------------------
    def _blocks(self, source: _Gunzip | _Plain) -> Iterator[bytes]:
        """Blocks of whole lines of the decompressed file (its last line may lack its ``\\n``).

        Each read asks for ``self._block_bytes`` bytes (None: the rest of the file), a size the caller
        adapts between blocks so a block holds about the requested number of rows. Decompressed pieces
        are joined once, cut at the last line end: one copy per block.
        """
        carry: list[bytes] = []
        while True:
            parts = source.read_parts(self._block_bytes)
            if not parts:
                if carry:
                    yield b"".join(carry)
                return
            for i in range(len(parts) - 1, -1, -1):
                cut = parts[i].rfind(b"\n")
                if cut >= 0:
                    break
            else:  # no line end yet (a line longer than the block): keep reading
                carry += parts
                continue
            head, tail = parts[i][: cut + 1], parts[i][cut + 1 :]
            pieces = [*carry, *parts[:i], head]
            carry = [p for p in (tail, *parts[i + 1 :]) if p]
            block = pieces[0] if len(pieces) == 1 else b"".join(pieces)
            del parts, pieces, head, tail  # hold one copy of the block while the caller parses it
            yield block
            del block

    # -- parsing ---------------------------------------------------------------------------------
    def frames(
        self,
        *,
        typed: Mapping[str, pl.DataType],
        required: Sequence[str],
        batch_rows: int | None = None,
    ) -> Iterator[pl.DataFrame]:
        """Parsed frames of the file, each with every header column plus ``file_line_number``.

        ``typed`` gives the dtype of columns that must not be read as text; missing ``required``
        columns fail the file. ``batch_rows`` None parses the whole file at once (read_and_parse);
        otherwise frames hold about ``batch_rows`` rows each. Blank lines are skipped (they hold no
        data) but still count as physical lines. A file with a header and no rows yields one empty
        frame. With ``batch_rows``, a file whose gzip stream is cut short raises after the frames read
        before the cut: callers must treat the whole file as failed.
        """
        whole = self._whole_gzip(typed, required)
        if whole is not None:
            yield from _slices(whole, batch_rows)
            return
        self._block_bytes = None if batch_rows is None else _clamp(batch_rows * _FIRST_GUESS_BYTES_PER_ROW)
        line = 2
        yielded = False
        try:
            with self.path.open("rb") as raw:
                gzipped = raw.read(2) == GZIP_MAGIC
                raw.seek(0)
                blocks = self._blocks(_Gunzip(raw) if gzipped else _Plain(raw))
                first = next(blocks, b"")
                cut = first.find(b"\n")
                names = self._check_header(first if cut < 0 else first[: cut + 1], required)
                schema = {n: typed.get(n, pl.String()) for n in names}
                numbered = _with_header_skip(first, blocks)
                del first  # only the loop below holds a block
                for skip, block in numbered:
                    frame = self._parse(block, skip, schema, line)
                    if batch_rows is not None and frame.height:
                        self._block_bytes = _clamp(int(len(block) / frame.height * batch_rows))
                    del block  # the text is parsed: free it before the frame goes to the caller
                    line += frame.height
                    frame = _drop_blank(frame, names)
                    if frame.height or not yielded:
                        yielded = True
                        yield frame
        except (EOFError, zlib.error) as exc:
            raise self.error(f"truncated or corrupt gzip stream ({exc}); re-download the file") from None

    def _whole_gzip(self, typed: Mapping[str, pl.DataType], required: Sequence[str]) -> pl.DataFrame | None:
        """The whole file parsed by Polars from the gzip file itself, or None to take the streaming path.

        Used for gzip files within :data:`WHOLE_GZIP_BYTES` / :data:`WHOLE_TEXT_BYTES`. The result is the
        frame the streaming path would produce: same header check, same reader options, same physical
        line numbers, blank lines dropped. Anything unusual (a bad header, a reader error, a truncated or
        corrupt stream, rows that may be short of fields) returns None, and the streaming path, which
        names the file, line and column, reads the file again and reports it.
        """
        try:
            size = self.path.stat().st_size
            with self.path.open("rb") as raw:
                if raw.read(2) != GZIP_MAGIC or size > WHOLE_GZIP_BYTES:
                    return None
                raw.seek(size - 4)
                text_bytes = int.from_bytes(raw.read(4), "little")
                if not size <= text_bytes <= WHOLE_TEXT_BYTES:
                    return None
                raw.seek(0)
                head = b"".join(_Gunzip(raw).read_parts(MIN_BLOCK_BYTES))
            cut = head.find(b"\n")
            if cut < 0:
                return None
            names = self._check_header(head[: cut + 1], required)
            schema = {n: typed.get(n, pl.String()) for n in names}
            frame = pl.read_csv(self.path, has_header=False, skip_rows=1, schema=schema, raise_if_empty=False)
            last = next(reversed(schema))
            if frame.height and frame.get_column(last).null_count():
                # Maybe a row short of fields (the reader pads it): count fields per line, as streaming does.
                self._check_field_counts(self.path, 1, len(schema), 2)
        except Exception:  # every failure is reported by the streaming path, with its line and column
            return None
        frame = frame.with_columns(pl.int_range(2, 2 + frame.height, dtype=pl.Int64).alias(LINE))
        return _drop_blank(frame, names)

    def _check_header(self, header: bytes, required: Sequence[str]) -> list[str]:
        if not header.strip():
            raise self.error("empty file: no header line (expected a Tardis CSV header)", line=1)
        try:
            names = header.decode("utf-8-sig").rstrip("\r\n").split(",")
        except UnicodeDecodeError:
            raise self.error("header is not UTF-8 text: not a Tardis CSV file", line=1) from None
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise self.error(f"header repeats column(s) {', '.join(dupes)}", line=1, column=dupes[0])
        missing = [c for c in required if c not in names]
        if missing:
            raise self.error(
                f"missing column(s) {', '.join(missing)} in header (found: {', '.join(names)})",
                line=1,
                column=missing[0],
            )
        return names

    def _parse(self, block: bytes, skip: int, schema: dict[str, pl.DataType], first_line: int) -> pl.DataFrame:
        """Parse one block of whole lines (``skip`` leading lines: the header in the first block)."""
        try:
            frame = pl.read_csv(block, has_header=False, skip_rows=skip, schema=schema, raise_if_empty=False)
        except pl.exceptions.PolarsError as exc:
            raise self._locate(block, skip, schema, first_line, exc) from None
        # A row with too few fields is padded with nulls by the CSV reader. Only rows whose last field is
        # null can be such rows, so the (slower) per-line field count runs only when that happens.
        last = next(reversed(schema))
        if frame.height and frame.get_column(last).null_count():
            self._check_field_counts(block, skip, len(schema), first_line)
        return frame.with_columns(pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64).alias(LINE))

    def _check_field_counts(self, block: bytes | Path, skip: int, width: int, first_line: int) -> None:
        """Fail on the first line whose number of fields differs from the header's (``block``: text or a file)."""
        lines = pl.read_csv(
            block, has_header=False, skip_rows=skip, separator=_WHOLE_LINE, quote_char=None,
            schema={"text": pl.String()}, raise_if_empty=False,
        )  # fmt: skip
        bad = (
            lines.with_row_index("i")
            .filter(
                pl.col("text").is_not_null()
                & ~pl.col("text").str.contains('"', literal=True)  # quoted fields may hold commas
                & (pl.col("text").str.count_matches(",", literal=True) != width - 1)
            )
            .head(1)
        )
        if bad.height:
            i, text = bad.row(0)
            fields = text.count(",") + 1
            raise self.error(f"row has {fields} fields, the header has {width}", line=first_line + i)

    def _locate(
        self, block: bytes, skip: int, schema: dict[str, pl.DataType], first_line: int, exc: Exception
    ) -> BronzeFormatError:
        """Turn a CSV reader failure into an error naming the offending line and column."""
        self._check_field_counts(block, skip, len(schema), first_line)
        text_schema = dict.fromkeys(schema, pl.String())
        try:
            text = pl.read_csv(block, has_header=False, skip_rows=skip, schema=text_schema, raise_if_empty=False)
        except pl.exceptions.PolarsError:
            return self.error(f"unreadable CSV: {str(exc).splitlines()[0]}")
        for name, dtype in schema.items():
            if dtype == pl.String():
                continue
            cast = text.get_column(name).cast(dtype, strict=False)
            bad = text.get_column(name).is_not_null() & cast.is_null()
            if bad.any():
                i = int(bad.arg_true()[0])
                value = text.get_column(name)[i]
                return self.error(f"cannot parse {value!r} as {_type_name(dtype)}", line=first_line + i, column=name)
        return self.error(f"unreadable CSV: {str(exc).splitlines()[0]}")


def _with_header_skip(first: bytes, rest: Iterator[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(lines to skip, block)``: the first block still starts with the header line, which the CSV
    reader skips (cheaper than copying the block without it); no reference to a block is kept here."""
    holder = [first]
    del first
    yield 1, holder.pop()
    for block in rest:
        yield 0, block


def _drop_blank(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Drop rows that came from blank lines (every field null); line numbers stay physical."""
    if not frame.height:
        return frame
    blank = pl.all_horizontal(pl.col(names).is_null())
    if not frame.select(blank.any()).item():
        return frame
    return frame.filter(~blank)


def _slices(frame: pl.DataFrame, batch_rows: int | None) -> Iterator[pl.DataFrame]:
    """``frame`` in pieces of ``batch_rows`` rows (whole when None); an empty frame is yielded once."""
    if batch_rows is None or frame.height <= batch_rows:
        yield frame
        return
    for offset in range(0, frame.height, batch_rows):
        yield frame.slice(offset, batch_rows)


def _clamp(size: int) -> int:
    return max(MIN_BLOCK_BYTES, min(MAX_BLOCK_BYTES, size))


def _type_name(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "an integer"
    if dtype.is_float():
        return "a number"
    return str(dtype)
