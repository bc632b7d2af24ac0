"""What screening reads, gathered while the rows stream in, in partitions of people.

Screening needs every conviction count of each person (priors with dates, the most recent
conviction, only-cannabis, sentence ends), a few steps (deceased, PC 290 registration), the
arrest cycles that hold a cannabis charge, and the possible duplicate people; it never needs
an arrest row or an out-of-county detail beyond those. ``FactsBuilder.add`` takes each block
of normalised rows as the importer reads it and keeps only that: the convicted rows (bucketed
by a hash of the subject id, so a person's rows are always together) and the small step and
cycle tables. ``finish`` groups the buckets into partitions of about ``PARTITION_ROWS``
convicted rows and turns each into its conviction counts once, with the same function
screening used on whole tables (``screening.convictions``). Screening and the summary then go
through the partitions one at a time, so their working memory is one partition's.

Past ``MEMORY_BUDGET`` bytes of decoded rows the buckets and partitions are kept as
zstd-compressed Arrow IPC bytes in memory (never on disk) and decoded when used. A ``ScreenFacts``
depends on the rows only: re-screening with another profile, date or county, and a what-if
comparison, reuse it without reading any file again.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from ..ingest.normalise import CANNABIS_SECTIONS

BUCKETS = 16
BUCKET_SEED = 7
PARTITION_ROWS = 100_000          # convicted rows per screening partition
MEMORY_BUDGET = 96 * 1024**2      # decoded bytes of convicted rows kept before compressing them
RECORD_COLUMNS = ["subject_id", "count_key", "level", "conviction_date", "conviction_date_quality"]
DUPLICATE_FLAG = "q_possible_duplicate_person"


def encode(frame: pl.DataFrame) -> bytes:
    """A frame as zstd-compressed Arrow IPC bytes, in memory."""
    buf = io.BytesIO()
    frame.write_ipc(buf, compression="zstd")
    return buf.getvalue()


def decode(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data))


_encode, _decode = encode, decode

WORKERS = min(2, os.cpu_count() or 1)   # partitions worked on at once


def map_partitions(fn: Callable, items: list) -> list:
    """``[fn(x) for x in items]``, ``WORKERS`` at a time (polars lets go of the GIL while it
    works); in order, and the first error is raised as it would be in a loop."""
    if WORKERS < 2 or len(items) < 2:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(fn, items))


class _Frames:
    """Frames appended over time, compressed into one block when asked."""

    def __init__(self) -> None:
        self.frames: list[pl.DataFrame] = []
        self.blobs: list[bytes] = []
        self.rows = 0

    def append(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self.frames.append(frame)
            self.rows += frame.height

    def decoded_bytes(self) -> int:
        return sum(f.estimated_size() for f in self.frames)

    def compress(self) -> None:
        if self.frames:
            self.blobs.append(_encode(pl.concat(self.frames, how="vertical_relaxed")))
            self.frames = []

    def all(self) -> list[pl.DataFrame]:
        return [_decode(b) for b in self.blobs] + self.frames


@dataclass
class Partition:
    """One group of people: their conviction counts, the same counts narrowed to what the
    summary reads (RECORD_COLUMNS), and the arrest cycles charged with cannabis; each kept
    decoded, or compressed when there are many partitions."""

    conv_rows: int
    _conv: pl.DataFrame | bytes
    _records: pl.DataFrame | bytes
    _charged: pl.DataFrame | bytes

    @property
    def conv(self) -> pl.DataFrame:
        return _decoded(self._conv)

    @property
    def records(self) -> pl.DataFrame:
        return _decoded(self._records)

    @property
    def charged(self) -> pl.DataFrame:
        return _decoded(self._charged)

    def held_bytes(self) -> int:
        return sum(x.estimated_size() if isinstance(x, pl.DataFrame) else len(x)
                   for x in (self._conv, self._records, self._charged))


def _decoded(data: pl.DataFrame | bytes) -> pl.DataFrame:
    return _decode(data) if isinstance(data, bytes) else data


class ScreenFacts:
    """The screening inputs of one import, by partition (see the module docstring)."""

    def __init__(self, partitions: list[Partition], steps: pl.DataFrame, duplicate_people: pl.DataFrame,
                 columns: list[str], counties: dict[str, int], bucket_partition: list[int] | None = None):
        self.partitions = partitions
        self.bucket_partition = bucket_partition or [0] * BUCKETS   # subject bucket -> partition
        self.steps = steps                        # rows of the steps screening reads, every column
        self.duplicate_people = duplicate_people  # subject_id, _nk, dob, source_file, source_line
        self.columns = columns                    # the columns of the rows they came from
        self.counties = counties                  # conviction counts per county (the import report's)

    def __iter__(self) -> Iterator[Partition]:
        return iter(self.partitions)

    def split(self, frame: pl.DataFrame) -> list[pl.DataFrame]:
        """Rows of ``frame`` (with subject_id) by the partition holding their person, in
        partition order (results split so each partition's people are summarised alone)."""
        if len(self.partitions) == 1:
            return [frame]
        where = pl.Series(self.bucket_partition, dtype=pl.UInt32).gather(
            (frame.get_column("subject_id").hash(BUCKET_SEED) % BUCKETS).cast(pl.UInt32))
        parts = frame.with_columns(where.alias("_partition")).partition_by("_partition", as_dict=True,
                                                                            include_key=False)
        return [parts.get((i,), frame.clear()) for i in range(len(self.partitions))]

    def release_convictions(self) -> None:
        """Drop the conviction counts once screening is done for good (the command line): the
        summary needs only the narrow records."""
        for p in self.partitions:
            p._conv = b""

    @property
    def conviction_rows(self) -> int:
        return sum(p.conv_rows for p in self.partitions)

    def held_bytes(self) -> int:
        """About how much memory the facts hold (compressed partitions count as compressed)."""
        return sum(p.held_bytes() for p in self.partitions) + self.steps.estimated_size()


class FactsBuilder:
    """Gathers ``ScreenFacts`` block by block.

    ``aggregate`` turns convicted rows (all rows of each person in them) into conviction
    counts; ``steps`` is a regex on the step type of the other rows screening reads;
    ``prepare`` completes rows of an older layout as they come in."""

    def __init__(self, aggregate: Callable[[pl.DataFrame], pl.DataFrame], steps: str,
                 prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None):
        self._aggregate = aggregate
        self._prepare = prepare
        self._step_re = steps
        self._buckets = [_Frames() for _ in range(BUCKETS)]
        self._charged = [_Frames() for _ in range(BUCKETS)]
        self._steps: list[pl.DataFrame] = []
        self._columns: list[str] | None = None
        self._empty: pl.DataFrame | None = None
        self._decoded = 0
        self._compressed = False

    def add(self, rows: pl.DataFrame) -> None:
        if self._prepare is not None:
            rows = self._prepare(rows)
        if self._columns is None:
            self._columns = rows.columns
            self._empty = rows.clear()
        bucket = (pl.col("subject_id").hash(BUCKET_SEED) % BUCKETS).cast(pl.UInt8).alias("_bucket")
        conv = rows.filter(pl.col("convicted")).with_columns(bucket)
        for (b,), part in conv.partition_by("_bucket", as_dict=True, include_key=False).items():
            self._buckets[b].append(part)
            self._decoded += part.estimated_size()
        charged = (rows.lazy().filter(pl.col("section_num").is_in(CANNABIS_SECTIONS)).select("subject_id", "cycle")
                   .unique().with_columns(bucket).collect())
        for (b,), part in charged.partition_by("_bucket", as_dict=True, include_key=False).items():
            self._charged[b].append(part)
            self._decoded += part.estimated_size()
        self._steps.append(rows.filter(pl.col("step_type").fill_null("").str.contains(self._step_re)))
        if self._decoded > MEMORY_BUDGET:
            for frames in self._buckets + self._charged:
                frames.compress()
            self._decoded = 0
            self._compressed = True

    def finish(self, duplicate_subjects: pl.Series | None = None,
               duplicate_people: pl.DataFrame | None = None) -> ScreenFacts:
        """``duplicate_subjects``: subject ids to flag as possible duplicates (``None``: the rows
        carried the flag already)."""
        columns = list(self._columns or [])
        flag = None if duplicate_subjects is None else duplicate_subjects.cast(pl.String).implode()
        if flag is not None and DUPLICATE_FLAG not in columns:
            columns.append(DUPLICATE_FLAG)
        # consecutive buckets make a partition of about PARTITION_ROWS convicted rows
        groups: list[list[int]] = [[]]
        size = 0
        for b, frames in enumerate(self._buckets):
            if groups[-1] and size + frames.rows > PARTITION_ROWS:
                groups.append([])
                size = 0
            groups[-1].append(b)
            size += frames.rows
        counties: dict[str, int] = {}
        # one partition stays decoded; several are kept compressed and decoded one at a time
        budget = self._compressed or len(groups) > 1

        def build(group: list[int]) -> tuple[Partition, dict]:
            frames = [f for b in group for f in self._buckets[b].all()]
            rows = (pl.concat(frames, how="vertical_relaxed") if frames
                    else self._empty_rows())
            if flag is not None:
                rows = rows.with_columns(pl.col("subject_id").is_in(flag).alias(DUPLICATE_FLAG))
            conv = self._aggregate(rows.select([c for c in columns if c in rows.columns]))
            n_rows = rows.height
            del rows, frames
            records = conv.select(RECORD_COLUMNS)
            by_county = {(c or ""): n for c, n in conv.group_by("county").len().iter_rows()}
            for b in group:
                self._buckets[b] = _Frames()
            charged_frames = [f for b in group for f in self._charged[b].all()]
            charged = (pl.concat(charged_frames).unique() if charged_frames
                       else pl.DataFrame(schema={"subject_id": pl.String, "cycle": pl.String}))
            keep = _encode if budget else (lambda frame: frame)
            return Partition(conv_rows=n_rows, _conv=keep(conv), _records=keep(records),
                             _charged=keep(charged)), by_county

        partitions = []
        for partition, by_county in map_partitions(build, groups):
            partitions.append(partition)
            for county, n in by_county.items():
                counties[county] = counties.get(county, 0) + n
        steps = (pl.concat(self._steps, how="vertical_relaxed") if self._steps else self._empty_rows())
        if flag is not None:
            steps = steps.with_columns(pl.col("subject_id").is_in(flag).alias(DUPLICATE_FLAG))
        if duplicate_people is None:
            duplicate_people = pl.DataFrame(schema={"subject_id": pl.String, "_nk": pl.String, "dob": pl.Date,
                                                    "source_file": pl.String, "source_line": pl.Int64})
        self._steps = []
        counties = dict(sorted(counties.items(), key=lambda kv: (-kv[1], kv[0])))
        bucket_partition = [i for i, group in enumerate(groups) for _ in group]
        return ScreenFacts(partitions, steps, duplicate_people, columns, counties, bucket_partition)

    def _empty_rows(self) -> pl.DataFrame:
        if self._empty is not None:
            return self._empty
        return pl.DataFrame(schema={"subject_id": pl.String, "cycle": pl.String, "convicted": pl.Boolean,
                                    "step_type": pl.String, "section_num": pl.String})
