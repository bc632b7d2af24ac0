"""Small helpers every view shares: text for outcomes, numbers, tables set up the same way."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QWidget,
)

from ..dialogs import ErrorDialog
from ..models import (
    FrameModel,
)

ANY = "(any)"
OUTCOME_TEXT = {
    "dismiss": "Dismiss and seal",
    "reduce": "Reduce",
    "review": "Attorney review",
    "ineligible": "Ineligible",
}
RELIEF_TEXT = {
    "dismiss_and_seal": "dismiss and seal",
    "reduce_to_misdemeanor": "redesignate as a misdemeanor",
    "reduce_to_infraction": "redesignate as an infraction",
}


def local_time(iso: str | None) -> str:
    """A stored UTC timestamp as the clerk reads it: local time, to the minute ("3/14/2026 2:05 PM")."""
    from datetime import datetime, timezone

    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone()
    hour = local.hour % 12 or 12
    return f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def fmt_int(n) -> str:
    return f"{int(n or 0):,}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def configure_table(table: QTableView, model: FrameModel, name: str, *, sortable: bool = False) -> None:
    """A read-only table sized from the column specs (never by measuring a million rows).

    Sortable tables start in the frame's own order (no sort indicator) until a header is clicked."""
    table.setModel(model)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.setTabKeyNavigation(False)  # Tab leaves the table, as everywhere else
    vh = table.verticalHeader()
    vh.hide()
    vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vh.setDefaultSectionSize(table.fontMetrics().height() + 8)
    hh = table.horizontalHeader()
    hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    hh.setStretchLastSection(True)
    hh.setHighlightSections(False)
    for i, col in enumerate(model.columns()):
        table.setColumnWidth(i, col.width)
    if sortable:
        hh.setSortIndicatorShown(True)
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)


def task_failed(parent: QWidget, message: str, details: str) -> None:
    ErrorDialog.show_error(parent, message, details)


# -- a small bar chart ---------------------------------------------------------------------------
