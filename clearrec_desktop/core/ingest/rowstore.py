"""The imported rows kept as row groups: compressed Arrow IPC blocks, decoded on demand.

An import keeps every normalised row (the review pane shows a person's whole record, exports
go back to the rows), but never all of them decoded at once: each block the reader hands over
becomes one group of zstd-compressed Arrow IPC bytes (about a seventh of the decoded size),
built in memory, never written anywhere but the encrypted workspace. An index of which groups
hold which subject id lets ``person`` decode only the groups of one person.

The possible-duplicate flag is known only once every row has been read, so it is applied when
a group is decoded (``set_duplicates``); a group stored in the workspace carries it.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Iterator

import polars as pl

DUPLICATE_FLAG = "q_possible_duplicate_person"
GROUP_ROWS = 250_000     # a frame larger than this (a county file) is kept as several groups
_CACHE_GROUPS = 3        # decoded groups kept for the next person lookup


def encode(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_ipc(buf, compression="zstd")
    return buf.getvalue()


def decode(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data))


class RowStore:
    """Normalised rows of one or more files, in file order, as compressed row groups."""

    def __init__(self) -> None:
        self._groups: list[tuple[str, int, bytes]] = []   # (source file, rows, Arrow IPC bytes)
        self._index_parts: list[pl.DataFrame] = []
        self._index: pl.DataFrame | None = None            # subject_id (sorted), group
        self._duplicates: pl.Series | None = None
        self._cache: OrderedDict[int, pl.DataFrame] = OrderedDict()
        self.height = 0

    # -- filling ---------------------------------------------------------------------------------

    def add(self, frame: pl.DataFrame, file: str) -> None:
        """Keep ``frame`` (rows of ``file``, in file order) as one or more groups."""
        for start in range(0, max(frame.height, 1), GROUP_ROWS):
            part = frame.slice(start, GROUP_ROWS)
            self._add(encode(part), part.height, file, part.get_column("subject_id"))

    def add_encoded(self, data: bytes, n_rows: int, file: str, subjects: pl.Series) -> None:
        """Keep a group already encoded (as the workspace stores it)."""
        self._add(bytes(data), n_rows, file, subjects)

    def _add(self, data: bytes, n_rows: int, file: str, subjects: pl.Series) -> None:
        group = len(self._groups)
        self._groups.append((file, n_rows, data))
        self._index_parts.append(pl.DataFrame({"subject_id": subjects.unique()}).with_columns(
            pl.lit(group, dtype=pl.UInt32).alias("group")))
        self._index = None
        self.height += n_rows

    def extend(self, other: "RowStore") -> None:
        """Add every group of ``other`` after these (the bytes are shared, not copied)."""
        for (file, n_rows, data), part in zip(other._groups, other._subject_parts()):
            self._add(data, n_rows, file, part)

    def _subject_parts(self) -> list[pl.Series]:
        """The subject ids of each group, from the index (no group is decoded)."""
        index = self._subject_index()
        parts = index.partition_by("group", as_dict=True, maintain_order=True)
        return [parts.get((i,), index.clear()).get_column("subject_id") for i in range(len(self._groups))]

    def set_duplicates(self, subjects: pl.Series | None) -> None:
        """Subject ids flagged as possible duplicates (``None``: the groups carry the flag)."""
        self._duplicates = None if subjects is None else subjects.cast(pl.String)
        self._cache.clear()

    # -- reading ---------------------------------------------------------------------------------

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(f for f, _, _ in self._groups))

    @property
    def n_groups(self) -> int:
        return len(self._groups)

    @property
    def compressed_bytes(self) -> int:
        return sum(len(d) for _, _, d in self._groups)

    def group(self, i: int) -> pl.DataFrame:
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        frame = decode(self._groups[i][2])
        if self._duplicates is not None:
            frame = frame.with_columns(pl.col("subject_id").is_in(self._duplicates.implode()).alias(DUPLICATE_FLAG))
        self._cache[i] = frame
        while len(self._cache) > _CACHE_GROUPS:
            self._cache.popitem(last=False)
        return frame

    def groups(self, file: str | None = None) -> Iterator[pl.DataFrame]:
        """Decoded groups in file order (of one file when ``file`` is given)."""
        for i, (name, _, _) in enumerate(self._groups):
            if file is None or name == file:
                yield self.group(i)

    def encoded_groups(self, file: str | None = None) -> Iterator[tuple[bytes, int]]:
        for name, n_rows, data in self._groups:
            if file is None or name == file:
                yield data, n_rows

    __iter__ = groups

    def collect(self, file: str | None = None) -> pl.DataFrame:
        """Every row (of one file) as one frame: for small imports, tests and exports."""
        frames = list(self.groups(file))
        if not frames:
            return pl.DataFrame()
        return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]

    def filter(self, *predicates, **constraints) -> pl.DataFrame:
        """``DataFrame.filter`` over every group, one group decoded at a time."""
        frames = [g.filter(*predicates, **constraints) for g in self.groups()]
        if not frames:
            return pl.DataFrame()
        return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]

    def _subject_index(self) -> pl.DataFrame:
        if self._index is None:
            parts = self._index_parts or [pl.DataFrame(schema={"subject_id": pl.String, "group": pl.UInt32})]
            self._index = pl.concat(parts).sort("subject_id", "group")
            self._index_parts = [self._index]
        return self._index

    def person(self, subject_id: str) -> pl.DataFrame:
        """Every row of one person, in file order; only the groups holding them are decoded."""
        index = self._subject_index()
        lo = index.get_column("subject_id").search_sorted(subject_id, side="left")
        hi = index.get_column("subject_id").search_sorted(subject_id, side="right")
        groups = index.get_column("group").slice(lo, hi - lo).to_list()
        frames = [self.group(g).filter(pl.col("subject_id") == subject_id) for g in groups]
        if not frames:
            return self.group(0).clear() if self._groups else pl.DataFrame()
        return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]

    def __repr__(self) -> str:
        return f"RowStore({self.height:,} rows in {len(self._groups)} groups, {self.compressed_bytes / 1e6:.1f} MB)"
