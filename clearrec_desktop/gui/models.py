"""Qt table models over polars frames.

A table view paints by calling ``data()`` several times per visible cell, so that method is
kept to a few list and Series look-ups: roles are compared against plain ints fetched once at
import (attribute look-ups on Qt enums cost microseconds each in PySide6), unserved roles return
``None`` at once, and the frame is never turned into Python lists. Sorting and filtering are done
by polars on the whole frame and swapped in; every row carries a stable id (``ROW_ID``) so the
selection survives a re-sort and a filter can restore the current row.

Sorting a large frame (``ASYNC_SORT_ROWS`` rows or more; a million rows takes about half a
second) runs on a thread-pool thread: the table keeps showing the previous order, and stays
usable, until the sorted frame is swapped in. The whole frame is kept sorted and a filter is
applied to it, so changing a filter never sorts again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import polars as pl
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QBrush, QColor, QFont

ROW_ID = "_row_id"
ASYNC_SORT_ROWS = 100_000  # frames this large are sorted off the GUI thread

DISPLAY_ROLE = Qt.ItemDataRole.DisplayRole.value
TOOLTIP_ROLE = Qt.ItemDataRole.ToolTipRole.value
FONT_ROLE = Qt.ItemDataRole.FontRole.value
BACKGROUND_ROLE = Qt.ItemDataRole.BackgroundRole.value
FOREGROUND_ROLE = Qt.ItemDataRole.ForegroundRole.value
ROW_ID_ROLE = Qt.ItemDataRole.UserRole.value  # the stable row id of the cell's row

_HORIZONTAL = Qt.Orientation.Horizontal
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

# Evidence rows are marked with a fixed amber and black text so the mark reads the same in the
# light and the dark scheme.
_HIGHLIGHT_BRUSH = QBrush(QColor(255, 213, 79))
_HIGHLIGHT_TEXT = QBrush(QColor(0, 0, 0))


@dataclass(frozen=True)
class Column:
    """One column shown by a ``FrameModel``: the frame column and its header."""

    key: str
    title: str
    width: int = 110  # pixels at 100 % scale; views use it instead of measuring a million rows


def sorted_frame(frame: pl.DataFrame, key: str, descending: bool) -> pl.DataFrame:
    # The row id breaks ties, so equal keys keep one stable order whatever came before.
    # Sorting the two key columns and gathering the rows once is faster than frame.sort(),
    # which carries every column through the sort.
    order = frame.select(pl.arg_sort_by([key, ROW_ID], descending=[descending, False],
                                         nulls_last=True)).to_series()
    return frame[order]


class _SortDone(QObject):
    done = Signal(int, object)   # sort request number, the sorted frame (or None if it failed)


class _SortJob(QRunnable):
    """Sorts a frame on a pool thread; polars frames are immutable, so reading it there while
    the GUI thread keeps showing it is safe."""

    def __init__(self, frame: pl.DataFrame, key: str, descending: bool, request: int, relay: _SortDone):
        super().__init__()
        self._args = (frame, key, descending)
        self._request = request
        self._relay = relay

    def run(self) -> None:
        try:
            result = sorted_frame(*self._args)
        except Exception:  # never lose the table over a sort: the GUI thread sorts instead
            result = None
        self._args = None
        self._relay.done.emit(self._request, result)


class FrameModel(QAbstractTableModel):
    """A read-only table over a polars DataFrame, sorted and filtered in polars.

    ``highlight`` and ``bold`` name optional boolean columns that mark rows (evidence rows in
    a person's history, cannabis counts).
    """

    sorting = Signal(bool)   # a sort runs in the background (True) or has been applied (False)

    def __init__(self, columns: Sequence[Column], parent=None, *, keep: Iterable[str] = (),
                 highlight: str | None = None, bold: str | None = None):
        super().__init__(parent)
        self._columns = list(columns)
        self._keep = [k for k in keep if k not in {c.key for c in self._columns}]
        self._highlight = highlight
        self._bold = bold
        self._bold_font = QFont()
        self._bold_font.setBold(True)
        self._full = self._empty()
        self._view = self._full
        self._series: list[pl.Series] = []
        self._hl_series: pl.Series | None = None
        self._bold_series: pl.Series | None = None
        self._rows = 0
        self._filter: pl.Expr | None = None
        self._sort: tuple[int, bool] | None = None  # (column, descending)
        self._sort_fresh = False  # the shown order matches the sort (no value edited since)
        self._sorted_full: pl.DataFrame | None = None  # the whole frame in the sort's order
        self._request = 0         # bumped by every sort asked for and every change of the data
        self._pending: int | None = None   # the request of the sort running in the background
        self._relay = _SortDone(self)
        self._relay.done.connect(self._on_sorted)
        self._refresh_series()

    # -- frame management ------------------------------------------------------------------

    def _wanted(self) -> list[str]:
        names = [c.key for c in self._columns] + self._keep
        for extra in (self._highlight, self._bold):
            if extra and extra not in names:
                names.append(extra)
        return names

    def _empty(self) -> pl.DataFrame:
        schema = {ROW_ID: pl.UInt32} | {name: pl.String for name in self._wanted()}
        return pl.DataFrame(schema=schema)

    def set_frame(self, frame: pl.DataFrame | None) -> None:
        """Show ``frame``. Rows get ids 0..n-1 (their position in ``frame``) unless the frame
        already carries ``ROW_ID``. The current sort and filter are applied again."""
        self.beginResetModel()
        if frame is None:
            self._full = self._empty()
        else:
            if ROW_ID not in frame.columns:
                frame = frame.with_row_index(ROW_ID)
            missing = [n for n in self._wanted() if n not in frame.columns]
            if missing:
                frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(n) for n in missing)
            self._full = frame.select([ROW_ID, *self._wanted()])
        self._sorted_full = None
        self._request += 1
        if self._sort is not None:
            self._sort_full(*self._sort)  # at once when small; else the frame shows unsorted until then
        self._view = self._filtered()
        self._refresh_series()
        self.endResetModel()

    def frame(self) -> pl.DataFrame:
        """The whole frame, unfiltered, in its original order."""
        return self._full

    def view_frame(self) -> pl.DataFrame:
        """The rows shown, in the order shown."""
        return self._view

    def columns(self) -> list[Column]:
        return list(self._columns)

    def set_filter(self, expr: pl.Expr | None) -> None:
        """Show only the rows matching ``expr`` (None shows every row); keeps the sort."""
        self.beginResetModel()
        self._filter = expr
        self._view = self._filtered()
        self._refresh_series()
        self.endResetModel()

    def _filtered(self) -> pl.DataFrame:
        base = self._sorted_full if self._sorted_full is not None else self._full
        return base.filter(self._filter) if self._filter is not None else base

    def _sort_full(self, column: int, descending: bool) -> None:
        """Sort the whole frame: here when it is small, else on a pool thread (``_on_sorted``)."""
        key = self._columns[column].key
        self._request += 1
        if self._full.height < ASYNC_SORT_ROWS:
            self._sorted_full = sorted_frame(self._full, key, descending)
            self._sort_fresh = True
            self._pending = None
            return
        self._pending = self._request
        QThreadPool.globalInstance().start(_SortJob(self._full, key, descending, self._request, self._relay))
        self.sorting.emit(True)

    def _on_sorted(self, request: int, frame: pl.DataFrame | None) -> None:
        if request != self._pending:
            return  # superseded: another sort was asked for, or the data changed meanwhile
        self._pending = None
        if frame is None:   # the background sort failed: sort here rather than show it unsorted
            frame = sorted_frame(self._full, self._columns[self._sort[0]].key, self._sort[1])
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_ids = [self._row_ids[i.row()] for i in old]
        self._sorted_full = frame
        self._sort_fresh = True
        self._view = self._filtered()
        self._refresh_series()
        if old:
            where = self._positions(old_ids)
            new = [self.index(where[rid], i.column()) if rid in where else QModelIndex()
                   for rid, i in zip(old_ids, old)]
            self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()
        self.sorting.emit(False)

    def is_sorting(self) -> bool:
        """A sort is running in the background; the rows shown are still in the previous order."""
        return self._pending is not None

    def _data_changed(self) -> None:
        """Values changed: a background sort of the old values is dropped and asked for again."""
        self._request += 1
        if self._pending is not None and self._sort is not None:
            self._sort_full(*self._sort)

    def _refresh_series(self) -> None:
        view = self._view
        self._series = [view.get_column(c.key) for c in self._columns]
        self._row_ids = view.get_column(ROW_ID)
        self._hl_series = view.get_column(self._highlight) if self._highlight else None
        self._bold_series = view.get_column(self._bold) if self._bold else None
        self._rows = view.height

    # -- QAbstractItemModel ----------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index, role=DISPLAY_ROLE):
        if role == DISPLAY_ROLE or role == TOOLTIP_ROLE:
            if not index.isValid():
                return None
            value = self._series[index.column()][index.row()]
            if value is None:
                return "" if role == DISPLAY_ROLE else None
            return value if type(value) is str else str(value)
        if role == BACKGROUND_ROLE or role == FOREGROUND_ROLE:
            if self._hl_series is not None and index.isValid() and self._hl_series[index.row()]:
                return _HIGHLIGHT_BRUSH if role == BACKGROUND_ROLE else _HIGHLIGHT_TEXT
            return None
        if role == FONT_ROLE:
            if self._bold_series is not None and index.isValid() and self._bold_series[index.row()]:
                return self._bold_font
            return None
        if role == ROW_ID_ROLE:
            return self._row_ids[index.row()] if index.isValid() else None
        return None

    def headerData(self, section, orientation, role=DISPLAY_ROLE):
        if role != DISPLAY_ROLE:
            return None
        if orientation == _HORIZONTAL:
            if 0 <= section < len(self._columns):
                return self._columns[section].title
            return None
        return str(section + 1) if 0 <= section < self._rows else None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _FLAGS

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if self._sort == (column, descending) and (self._sort_fresh or self._pending is not None):
            return  # QTableView.sortByColumn asks twice; a million-row sort is worth skipping
        self._sort = (column, descending)
        self._sort_fresh = False
        if self._full.height >= ASYNC_SORT_ROWS:
            self._sort_full(column, descending)  # the rows move when the sorted frame is ready
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_ids = [self._row_ids[i.row()] for i in old]
        self._sort_full(column, descending)
        self._view = self._filtered()
        self._refresh_series()
        if old:
            where = self._positions(old_ids)
            new = [self.index(where[rid], i.column()) if rid in where else QModelIndex()
                   for rid, i in zip(old_ids, old)]
            self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def sort_state(self) -> tuple[int, Qt.SortOrder] | None:
        if self._sort is None:
            return None
        column, descending = self._sort
        return column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder

    # -- row ids ---------------------------------------------------------------------------

    def _positions(self, row_ids: Sequence[int]) -> dict[int, int]:
        if not row_ids:
            return {}
        hits = (self._view.select(ROW_ID).with_row_index("_pos")
                .filter(pl.col(ROW_ID).is_in(list(set(row_ids)))))
        return dict(zip(hits.get_column(ROW_ID).to_list(), hits.get_column("_pos").to_list()))

    def row_id(self, row: int) -> int | None:
        """The stable id of the shown row ``row``."""
        if 0 <= row < self._rows:
            return int(self._row_ids[row])
        return None

    def row_of(self, row_id: int) -> int:
        """Where the row with id ``row_id`` is shown now; -1 when it is filtered out."""
        return self._positions([row_id]).get(row_id, -1)

    def record(self, row: int) -> dict[str, Any]:
        """The shown row ``row`` as a dict of the model's columns."""
        return self._view.row(row, named=True)

    def update_where(self, key: str, value: Any, values: dict[str, Any]) -> None:
        """Set ``values`` on every row whose ``key`` column equals ``value`` (for example the
        decision status of one conviction) and repaint those rows."""
        def patch(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[int]]:
            hits = frame.select(pl.arg_where(pl.col(key) == value)).to_series()
            if hits.len() == 0:
                return frame, []
            columns = []
            for name, new in values.items():
                column = frame.get_column(name).clone()  # scatter writes in place
                column.scatter(hits, new)
                columns.append(column)
            return frame.with_columns(columns), hits.to_list()

        self._full, _ = patch(self._full)
        if self._sorted_full is not None:
            self._sorted_full, _ = patch(self._sorted_full)
        self._view, rows = patch(self._view)
        self._sort_fresh = False
        self._data_changed()
        self._refresh_series()
        last = len(self._columns) - 1
        for row in rows:
            self.dataChanged.emit(self.index(row, 0), self.index(row, last))

    def replace_column(self, name: str, values: pl.Series) -> None:
        """Replace column ``name`` of the whole frame (``values`` in the frame's original order).

        Shown rows stay where they are even if they no longer match the filter or the sort: a
        case the attorney just decided must not jump away under the keyboard. The next filter
        or sort takes the new values into account."""
        self._full = self._full.with_columns(values.alias(name))
        if self._sorted_full is not None:
            self._sorted_full = (self._sorted_full.drop(name)
                                 .join(self._full.select(ROW_ID, name), on=ROW_ID, how="left", maintain_order="left")
                                 .select(self._full.columns))
        self._sort_fresh = False
        self._data_changed()
        order = self._view.columns
        self._view = (self._view.drop(name)
                      .join(self._full.select(ROW_ID, name), on=ROW_ID, how="left",
                            maintain_order="left")
                      .select(order))
        self._refresh_series()
        if self._rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self._rows - 1, len(self._columns) - 1))


# -- the review table ----------------------------------------------------------------------------

DECISION_STATUSES = ("undecided", "decided", "accepted", "departed", "deferred", "challenged")

REVIEW_COLUMNS = [
    Column("outcome", "Outcome", 80),
    Column("decision", "Decision", 150),
    Column("progress", "Progress", 110),  # screened -> decided -> filed -> ruled -> reported (issue 16)
    Column("name", "Name", 180),
    Column("cii_number", "CII", 95),
    Column("court_case_number", "Case number", 105),
    Column("courthouse", "Courthouse", 190),
    Column("conviction_date", "Convicted", 90),
    Column("code_section", "Section", 95),
    Column("level", "Level", 45),
    Column("relief", "Relief", 150),
    Column("flags", "Flags", 220),
    Column("source", "Source", 110),  # a reconciliation's provenance (issue 15); blank otherwise
]
# Where a reconciliation found each conviction (the ``provenance`` column of its results).
PROVENANCE_TEXT = {"county_only": "county only", "doj_only": "DOJ only", "both_disagreeing": "both, disagreeing",
                   "both": "both"}
# The Review filter's choices: "both" covers the agreeing and the disagreeing pairs.
PROVENANCE_FILTERS = (("county only", "county_only"), ("DOJ only", "doj_only"), ("both", "both"),
                      ("both, disagreeing", "both_disagreeing"))
# Kept beside the shown columns for filtering, decisions and the detail pane.
REVIEW_KEEP = ["conviction_id", "subject_id", "_decision", "_departs", "_decade", "_search", "_provenance",
               "_progress"]
# How far each conviction has gone (core/workspace/filings.py STATUSES), as the Progress filter
# offers it; the column says a little more once the court has ruled.
PROGRESS_FILTERS = (("screened, nothing decided", "screened"), ("decided, not filed", "decided"),
                    ("filed, waiting for the court", "filed"), ("ruled by the court", "ruled"),
                    ("reported to DOJ", "reported_to_doj"))
_PROGRESS_TEXT = {"screened": "screened", "decided": "decided", "filed": "filed", "reported_to_doj": "reported to DOJ"}
_RULING_TEXT = {"granted": "granted", "granted_differently": "granted differently", "denied": "denied",
                "continued": "filed, continued"}


def progress_columns(conviction_ids: pl.Series, raw_decisions: pl.Series, filed: pl.DataFrame) -> pl.DataFrame:
    """``_progress`` (the status) and ``progress`` (its words) for each conviction, in order:
    the filing's status where the conviction was filed, else decided or screened (a deferral
    decides nothing), as ``combine_statuses`` works it out."""
    frame = pl.DataFrame([conviction_ids.alias("conviction_id"), raw_decisions.fill_null("").alias("_d")])
    if filed.height and "conviction_id" in filed.columns:
        frame = frame.join(filed.select("conviction_id", pl.col("status").alias("_fs"), pl.col("ruling").alias("_r")),
                           on="conviction_id", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("_fs"), pl.lit(None, pl.String).alias("_r"))
    status = pl.coalesce(pl.col("_fs"), pl.when(pl.col("_d").is_in(["", "defer"])).then(pl.lit("screened"))
                         .otherwise(pl.lit("decided")))
    text = (pl.when(pl.col("_progress") == "ruled").then(pl.col("_r").replace_strict(_RULING_TEXT, default="ruled"))
            .when((pl.col("_progress") == "filed") & (pl.col("_r") == "continued")).then(pl.lit(_RULING_TEXT["continued"]))
            .otherwise(pl.col("_progress").replace_strict(_PROGRESS_TEXT, default=pl.col("_progress"))))
    return frame.with_columns(status.alias("_progress")).select("_progress", text.alias("progress"))


def decision_label(decision: str | None, ground: str | None, proposed: str | None) -> str:
    """How an effective decision reads in the table."""
    if not decision:
        return ""
    if decision == "accept":
        return f"accepted ({proposed})" if proposed else "accepted"
    if decision == "challenge" and ground:
        return "challenge: " + ground.replace("_", " ")
    return {"defer": "deferred"}.get(decision, decision)


def decision_columns(conviction_ids: pl.Series, decisions: pl.DataFrame) -> pl.DataFrame:
    """``decision`` (label), ``_decision`` (raw) and ``_departs`` for each conviction id, in order."""
    base = conviction_ids.to_frame("conviction_id")
    if decisions.height == 0 or "conviction_id" not in decisions.columns:
        return base.with_columns(pl.lit("").alias("decision"), pl.lit("").alias("_decision"),
                                 pl.lit(False).alias("_departs"))
    labels = decisions.select(
        "conviction_id",
        pl.struct("decision", "ground", "proposed")
        .map_elements(lambda d: decision_label(d["decision"], d["ground"], d["proposed"]),
                      return_dtype=pl.String).alias("decision"),
        pl.col("decision").alias("_decision"),
        ((pl.col("decision") != "accept") & pl.col("decision").ne_missing(pl.col("proposed"))).alias("_departs"),
    )
    return (base.join(labels, on="conviction_id", how="left", maintain_order="left")
            .with_columns(pl.col("decision").fill_null(""), pl.col("_decision").fill_null(""),
                          pl.col("_departs").fill_null(False)))


def review_frame(results: pl.DataFrame, decisions: pl.DataFrame, filed: pl.DataFrame | None = None) -> pl.DataFrame:
    """The results with the decision, the progress and the helper columns the filters use."""
    dec = decision_columns(results.get_column("conviction_id"), decisions)
    progress = progress_columns(results.get_column("conviction_id"), dec.get_column("_decision"),
                                filed if filed is not None else pl.DataFrame())
    year = pl.col("conviction_date").cast(pl.String).str.slice(0, 4).cast(pl.Int32, strict=False)
    if "provenance" in results.columns:
        source = pl.col("provenance").replace_strict(PROVENANCE_TEXT, default=None, return_dtype=pl.String)
    else:
        source = pl.lit(None, dtype=pl.String)
    return results.with_columns(
        source.alias("source"),
        (pl.col("provenance") if "provenance" in results.columns else pl.lit(None, dtype=pl.String)).alias("_provenance"),
        dec.get_column("decision"), dec.get_column("_decision"), dec.get_column("_departs"),
        progress.get_column("_progress"), progress.get_column("progress"),
        pl.when(year.is_null()).then(pl.lit("unknown"))
        .otherwise((year // 10 * 10).cast(pl.String) + "s").alias("_decade"),
        pl.concat_str([pl.col("name").fill_null(""), pl.col("cii_number").fill_null(""),
                       pl.col("court_case_number").fill_null("")], separator="\x1f")
        .str.to_lowercase().alias("_search"),
    )


def review_filter(*, outcome: str | None = None, flag: str | None = None, section: str | None = None,
                  courthouse: str | None = None, decade: str | None = None, status: str | None = None,
                  provenance: str | None = None, progress: str | None = None, text: str = "") -> pl.Expr | None:
    """A polars filter for the review table; None means every row."""
    parts: list[pl.Expr] = []
    if outcome:
        parts.append(pl.col("outcome") == outcome)
    if flag:
        parts.append(pl.col("flags").fill_null("").str.split(";").list.contains(flag))
    if section:
        parts.append(pl.col("code_section") == section)
    if courthouse:
        parts.append(pl.col("courthouse") == courthouse)
    if decade:
        parts.append(pl.col("_decade") == decade)
    if provenance:
        wanted = ["both", "both_disagreeing"] if provenance == "both" else [provenance]
        parts.append(pl.col("_provenance").fill_null("").is_in(wanted))
    if progress:
        parts.append(pl.col("_progress") == progress)
    if status:
        parts.append({
            "undecided": pl.col("_decision") == "",
            "decided": pl.col("_decision") != "",
            "accepted": pl.col("_decision") == "accept",
            "departed": pl.col("_departs"),
            "deferred": pl.col("_decision") == "defer",
            "challenged": pl.col("_decision") == "challenge",
        }[status])
    needle = " ".join(text.split()).lower()
    if needle:
        parts.append(pl.col("_search").str.contains(needle, literal=True))
    if not parts:
        return None
    expr = parts[0]
    for part in parts[1:]:
        expr = expr & part
    return expr
