"""The Reports view: the impact report's figures and charts, painted with QPainter.

The figures are the core's ``exports.impact_figures`` (worked out on a reader thread), shown
as the published PDF shows them: every count from 1 to 10 reads "<11" and draws no bar.
"""

from __future__ import annotations

import re
from typing import Sequence

import polars as pl
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core.outputs.common import OUTCOMES, SUPPRESS_BELOW, SUPPRESSED
from ...core.outputs.impact_report import (
    BREAKDOWN_METRICS,
    BREAKDOWNS,
    GENDER_LABELS,
    LEVEL_LABELS,
    OUTCOME_LABELS,
    PEOPLE_MEASURES,
    pub,
)
from ..models import Column, FrameModel
from ..session import Session
from ..widgets.charts import paint_chart_frame
from ..widgets.common import configure_table, esc, task_failed

PEOPLE_SHORT = ["With some relief", "Left with no felony", "Left with no conviction", "None in the last 7 years"]


def shown(value) -> int | None:
    """The number a published cell shows; None when it shows none ("<11", "n/a")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        n = int(value)
    elif isinstance(value, str) and value.replace(",", "").isdigit():
        n = int(value.replace(",", ""))
    else:
        return None
    return None if 0 < n < SUPPRESS_BELOW else n


def share(n, of) -> str:
    a, b = shown(n), shown(of)
    return f"{100 * a / b:.1f}%" if a is not None and b else ""


def _unknown(group: str) -> bool:
    return group.strip().lower() in ("", "unknown", "(blank)", "null")


def group_label(dim: str, group: str) -> str:
    if _unknown(group):
        return "Unknown"
    if dim == "gender":
        return GENDER_LABELS.get(group.strip().upper(), group.title())
    if dim == "race":
        return group.title()
    return group[:1].upper() + group[1:]


def group_order(dim: str, groups: dict) -> list[str]:
    """Age bands and decades in their order, other groups largest first; unknown last."""
    def key(g: str):
        low = g.strip().lower()
        if dim in ("age_band", "decade"):
            m = re.search(r"\d+", low)
            return (_unknown(g), -1 if low.startswith("under") else (int(m.group()) if m else 10**6), low)
        return (_unknown(g), -(shown(groups[g].get("people")) or 0), low)
    return sorted(groups, key=key)


# -- a grouped bar chart ------------------------------------------------------------------------

class GroupedBarChart(QWidget):
    """Horizontal bars, one per series in each category, labelled with the published value.

    A suppressed value ("<11") is written but draws no bar, as in the PDF. Colours come from
    the palette, so the chart reads in the light and the dark scheme."""

    def __init__(self, title: str, series: Sequence[str], parent: QWidget | None = None):
        super().__init__(parent)
        self._title = title
        self._series = list(series)
        self._categories: list[str] = []
        self._values: list[list] = []
        self.setAccessibleName(title)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a screen reader reaches the figures
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_data(self, categories: Sequence[str], values: Sequence[Sequence]) -> None:
        """``values[s][c]``: series s, category c; a count, "<11", or None (no figure)."""
        self._categories = [str(c) for c in categories]
        self._values = [list(v) for v in values]
        parts = []
        for c, cat in enumerate(self._categories):
            figures = ", ".join(f"{name} {pub(self._values[s][c])}" for s, name in enumerate(self._series))
            parts.append(f"{cat}: {figures}")
        self.setAccessibleDescription("; ".join(parts) or "no data")
        self.setToolTip(self.accessibleDescription())
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def texts(self) -> list[list[str]]:
        """The value labels drawn, per series and category (what a reader sees)."""
        return [[pub(v) for v in row] for row in self._values]

    def _bar_height(self) -> int:
        return self.fontMetrics().height() + (2 if len(self._series) > 1 else 6)

    def _legend_height(self) -> int:
        return self.fontMetrics().height() + 8 if len(self._series) > 1 else 0

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        rows = len(self._categories) * (self._bar_height() * len(self._series) + 6)
        return QSize(480, fm.height() + 10 + max(rows, fm.height()) + self._legend_height() + 6)

    def _colors(self) -> list[QColor]:
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Highlight)
        # the second series: the highlight blended halfway into the background, so it is paler
        # in the light scheme and darker in the dark one
        window = pal.color(QPalette.ColorRole.Window)
        second = QColor((base.red() + window.red()) // 2, (base.green() + window.green()) // 2,
                        (base.blue() + window.blue()) // 2)
        return [base, second]

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fm = self.fontMetrics()
        text_color = pal.color(QPalette.ColorRole.WindowText)
        title_h = fm.height() + 10
        if not paint_chart_frame(self, painter, self._title, title_h, bool(self._categories)):
            painter.end()
            return
        colors = self._colors()
        label_w = min(max(fm.horizontalAdvance(c) for c in self._categories) + 12, self.width() // 3)
        value_w = max(fm.horizontalAdvance(pub(v)) for row in self._values for v in row) + 10
        bar_w = max(10, self.width() - label_w - value_w - 8)
        top = max([shown(v) or 0 for row in self._values for v in row] + [1])
        bh = self._bar_height()
        y = title_h
        for c, category in enumerate(self._categories):
            group_h = bh * len(self._series)
            painter.setPen(text_color)
            shown_label = fm.elidedText(category, Qt.TextElideMode.ElideRight, label_w - 8)
            painter.drawText(0, y, label_w - 8, group_h, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             shown_label)
            for s in range(len(self._series)):
                value = self._values[s][c]
                n = shown(value) or 0
                w = int(bar_w * n / top)
                by = y + s * bh
                if w:
                    painter.fillRect(label_w, by + 2, w, bh - 4, colors[s % 2])
                painter.setPen(text_color)
                painter.drawText(label_w + w + 4, by, value_w, bh,
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, pub(value))
            y += group_h + 6
        if len(self._series) > 1:
            x = label_w
            ly = y + 2
            for s, name in enumerate(self._series):
                box = fm.height() - 4
                painter.fillRect(x, ly + 2, box, box, colors[s % 2])
                painter.setPen(text_color)
                painter.drawText(x + box + 4, ly, fm.horizontalAdvance(name) + 4, fm.height(),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
                x += box + fm.horizontalAdvance(name) + 24
        painter.end()


def _two_lines(text: str) -> str:
    """A long column header on two lines, broken at the space nearest its middle."""
    if len(text) <= 14 or " " not in text:
        return text
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "\n" + text[cut + 1:]


class FigureTable(QTableView):
    """A small table of published figures (text), as tall as its rows and as wide as its text."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.model_ = FrameModel([Column("_", "", 100)], self)
        configure_table(self, self.model_, name)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.horizontalHeader().setStretchLastSection(False)

    def set_rows(self, header: list[str], rows: list[list[str]]) -> None:
        keys = [f"c{i}" for i in range(len(header))]
        titles = [_two_lines(h) for h in header]
        fm, hfm = self.fontMetrics(), self.horizontalHeader().fontMetrics()
        widths = [max([hfm.horizontalAdvance(line) for line in t.split("\n")]
                      + [fm.horizontalAdvance(str(r[i])) for r in rows]) + 20 for i, t in enumerate(titles)]
        old, self.model_ = self.model_, FrameModel([Column(k, t, w) for k, t, w in zip(keys, titles, widths)], self)
        self.setModel(self.model_)
        old.deleteLater()  # each run's tables have their own columns
        self.model_.set_frame(pl.DataFrame({k: [str(r[i]) for r in rows] for i, k in enumerate(keys)},
                                           schema={k: pl.String for k in keys}))
        for i, w in enumerate(widths):
            self.setColumnWidth(i, w)
        self.setFixedWidth(sum(widths) + 2 * self.frameWidth())
        height = self.horizontalHeader().sizeHint().height() + self.verticalHeader().defaultSectionSize() * len(rows)
        self.setFixedHeight(height + 2 * self.frameWidth())

    def cells(self) -> list[list[str]]:
        """The text of every cell, row by row (what a reader sees)."""
        return [[str(v) for v in row[1:]] for row in self.model_.frame().iter_rows()]


class ReportsView(QWidget):
    """The impact report on screen: headline figures, outcomes, people, breakdowns by group."""

    title = "Reports"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.figures: dict | None = None
        self._stale = True
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setAccessibleName("Report")
        top.addWidget(self.heading, 1)
        self.save_button = QPushButton("&Save impact report (PDF)…")
        self.save_button.setAccessibleName("Save the impact report as a PDF file")
        top.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(top)

        scroll = self.scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setAccessibleName("Impact report")
        outer.addWidget(scroll, 1)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)

        tiles = QHBoxLayout()
        self.tiles: list[tuple[QLabel, QLabel]] = []
        for label in ("cannabis convictions screened", "people with a cannabis conviction",
                      "people receiving some relief", "people left with no conviction"):
            frame = QFrame()
            frame.setObjectName("tile")
            frame.setStyleSheet("#tile { border-top: 3px solid palette(highlight); background: palette(base); }")
            fl = QVBoxLayout(frame)
            number = QLabel()
            number.setObjectName("tileNumber")
            number.setStyleSheet("#tileNumber { font-size: 20pt; font-weight: bold; }")
            text = QLabel(label)
            text.setWordWrap(True)
            number.setAccessibleName(label)
            fl.addWidget(number)
            fl.addWidget(text)
            tiles.addWidget(frame, 1)
            self.tiles.append((number, text))
        layout.addLayout(tiles)

        # One section under the other, as the PDF reads: each a table beside its chart.
        def section(title: str, *rows) -> QGroupBox:
            box = QGroupBox(title)
            bl = QVBoxLayout(box)
            for row in rows:
                if isinstance(row, tuple):
                    line = QHBoxLayout()
                    line.addWidget(row[0], 0, Qt.AlignmentFlag.AlignTop)
                    line.addSpacing(16)
                    line.addWidget(row[1], 1, Qt.AlignmentFlag.AlignTop)
                    bl.addLayout(line)
                else:
                    bl.addWidget(row)
            layout.addWidget(box)
            return box

        self.outcome_table = FigureTable("Convictions by outcome")
        self.outcome_chart = GroupedBarChart("Convictions by outcome", ["Convictions"])
        section("Outcome of every conviction screened", (self.outcome_table, self.outcome_chart))
        note = QLabel("A person is counted once, however many convictions they have, and their whole record is "
                      "considered. The comparison shows the same figures if every cannabis conviction screened "
                      "were dismissed.")
        note.setWordWrap(True)
        self.people_table = FigureTable("People: this policy and dismissing everything")
        self.people_chart = GroupedBarChart("People: this policy compared with dismissing everything",
                                            ["This policy", "Dismiss everything"])
        section("What relief means for people", note, (self.people_table, self.people_chart))
        self.level_table = FigureTable("Convictions by level")
        self.section_chart = GroupedBarChart("Convictions by code section", ["Convictions"])
        section("Convictions by code section and level", (self.level_table, self.section_chart))

        self.breakdown_tables: dict[str, FigureTable] = {}
        self.breakdown_charts: dict[str, GroupedBarChart] = {}
        rows: list = [QLabel("People with a cannabis conviction screened, their convictions, and what relief "
                             "means for them, by group.")]
        for dim, title in BREAKDOWNS:
            table = FigureTable(f"Figures by {title.lower()}")
            series = (["Convictions", "Convictions with relief"] if dim == "decade"
                      else ["People", "People with some relief"])
            chart = GroupedBarChart(f"By {title[0].lower() + title[1:]}: {series[0].lower()} and "
                                    f"{series[1].lower()}", series)
            self.breakdown_tables[dim] = table
            self.breakdown_charts[dim] = chart
            rows.append((table, chart))
        self.who_box = section("Who is affected", *rows)

        # A reconciliation of DOJ's list with the county's records (issue 15): shown only then.
        self.reconciliation_label = QLabel()
        self.reconciliation_label.setWordWrap(True)
        self.reconciliation_label.setAccessibleName("Reconciliation with the county's records")
        self.reconciliation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reconciliation_table = FigureTable("Convictions of each list by courthouse")
        self.reconciliation_box = section("Reconciliation with the county's records", self.reconciliation_label,
                                          self.reconciliation_table)
        self.reconciliation_box.hide()

        self.data_label = QLabel()
        self.data_label.setWordWrap(True)
        self.data_label.setAccessibleName("The data and the policy")
        self.data_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        section("The data and the policy", self.data_label)
        self.suppression_note = QLabel(
            f"“{SUPPRESSED}”: from 1 to {SUPPRESS_BELOW - 1}, not shown to protect the privacy of the people "
            "concerned; such figures draw no bar, and rates are given only where both counts are shown.")
        self.suppression_note.setWordWrap(True)
        layout.addWidget(self.suppression_note)
        layout.addStretch(1)

        session.run_changed.connect(self.mark_stale)
        session.workspace_changed.connect(self.mark_stale)
        session.runner.busy_changed.connect(lambda _b: self._update_enabled())
        self._show(None)

    # -- data ---------------------------------------------------------------------------------------

    def mark_stale(self) -> None:
        self._stale = True
        self.figures = None
        if self.session.run is None:
            self._show(None)
        elif self.isVisible():
            self.refresh()
        self._update_enabled()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        self._stale = False
        if not self.session.impact_figures(self._show, lambda m, d: task_failed(self, m, d)):
            self._show(None)
            return
        self.heading.setText("<h2>Impact report</h2><p>Working out the figures…</p>")

    def _show_reconciliation(self) -> None:
        """The lists' counts (small counts suppressed like every published figure), what the
        county-only list found by section and decade, and each list by courthouse."""
        counts = self.session.reconciliation_counts()
        self.reconciliation_box.setVisible(counts is not None)
        if counts is None:
            return
        lists = counts.get("lists", {})

        def items(d: dict) -> str:
            return ", ".join(f"{esc(k)}: {pub(v)}" for k, v in sorted(d.items())) or "none"

        self.reconciliation_label.setText(
            f"<p>Found in the county's records only (the convictions DOJ's list missed): "
            f"<b>{pub(lists.get('county_only', 0))}</b>; on DOJ's list only: <b>{pub(lists.get('doj_only', 0))}</b>; "
            f"in both but recorded differently: <b>{pub(lists.get('both_disagreeing', 0))}</b>; in both, agreeing: "
            f"<b>{pub(lists.get('both', 0))}</b>. People newly relieved (a county-only conviction dismissed or "
            f"reduced): <b>{pub(counts.get('people_newly_relieved', 0))}</b>.</p>"
            f"<p>County only, by code section: {items(counts.get('county_only_by_section', {}))}; "
            f"by decade: {items(counts.get('county_only_by_decade', {}))}.</p>")
        frame = self.session.reconciliation_by_courthouse()
        header = ["Courthouse", "County only", "DOJ only", "Both, disagreeing", "Both, agreeing", "Total"]
        rows = [[r["courthouse"], *(pub(r[k]) for k in ("county_only", "doj_only", "both_disagreeing", "both", "total"))]
                for r in frame.iter_rows(named=True)]
        self.reconciliation_table.set_rows(header, rows)

    def _update_enabled(self) -> None:
        self.save_button.setEnabled(self.session.run is not None and not self.session.runner.busy)

    def _show(self, fig: dict | None) -> None:
        self.figures = fig
        self._update_enabled()
        if fig is None:
            self.heading.setText("<h2>Impact report</h2><p>No screening run yet. Import an extract first.</p>")
            for number, _ in self.tiles:
                number.setText("–")
            for table in (self.outcome_table, self.people_table, self.level_table, *self.breakdown_tables.values()):
                table.set_rows([""], [])
            for chart in (self.outcome_chart, self.people_chart, self.section_chart, *self.breakdown_charts.values()):
                chart.set_data([], [])
            self.data_label.setText("")
            self.reconciliation_box.hide()
            return
        self._show_reconciliation()
        county = (fig["county"] or "").title() or "County"
        profile = fig["profile"] or {}
        profile_title = profile.get("title") or profile.get("id") or "not recorded"
        as_of = fig["as_of"].isoformat() if fig["as_of"] else "unknown"
        self.heading.setText(
            f"<h2>Impact report: {esc(county)} County</h2><p>The figures the published report shows, for this run "
            f"(evaluation date {esc(as_of)}, policy {esc(profile_title)}); small counts are suppressed. "
            "Attorney decisions are not counted here: the report describes the screening.</p>")
        people, everything, total = fig["people"], fig["dismiss_everything"], fig["total"]
        for (number, _), value in zip(self.tiles, (total, people.get("with_conviction"), people.get("with_relief"),
                                                   people.get("no_conviction_left"))):
            number.setText(pub(value))

        by_outcome = fig["by_outcome"]
        rows = [[OUTCOME_LABELS[o], pub(by_outcome.get(o, 0)), share(by_outcome.get(o, 0), total)] for o in OUTCOMES]
        rows.append(["Total", pub(total), ""])
        self.outcome_table.set_rows(["Outcome", "Convictions", "Share"], rows)
        self.outcome_chart.set_data([OUTCOME_LABELS[o] for o in OUTCOMES], [[by_outcome.get(o, 0) for o in OUTCOMES]])

        rows = [["People with a cannabis conviction", pub(people.get("with_conviction")),
                 pub(everything.get("with_conviction")), ""]]
        for key, label in PEOPLE_MEASURES:
            a, b = shown(people.get(key)), shown(everything.get(key))
            if a is None or b is None:
                diff = ""
            else:  # a difference under 11 would let a suppressed count be worked out
                diff = f"{b - a:+,}" if b - a == 0 or abs(b - a) >= SUPPRESS_BELOW else SUPPRESSED
            rows.append([label, pub(people.get(key)), pub(everything.get(key)), diff])
        self.people_table.set_rows(["Measure", "This policy", "Dismiss everything", "Difference"], rows)
        self.people_chart.set_data(PEOPLE_SHORT, [[people.get(k) for k, _ in PEOPLE_MEASURES],
                                                  [everything.get(k) for k, _ in PEOPLE_MEASURES]])

        levels = sorted(fig["by_level"].items(), key=lambda kv: ("FMI".find(kv[0]) if kv[0] in ("F", "M", "I") else 9, kv[0]))
        self.level_table.set_rows(["Level", "Convictions"],
                                  [[LEVEL_LABELS.get(k) or ("Unknown" if _unknown(k) else k), pub(v)] for k, v in levels])
        sections = sorted(fig["by_section"].items(), key=lambda kv: (_unknown(kv[0]), kv[0]))
        self.section_chart.set_data(["Unknown" if _unknown(k) else k for k, _ in sections], [[v for _, v in sections]])

        first, last = fig["first_conviction"], fig["last_conviction"]
        rules = "".join(f"<li>{esc(r)}</li>" for r in fig["rules"])
        files = ", ".join(esc(f.get("file", "")) for f in fig["inputs"])
        self.data_label.setText(
            f"<p>Input: {files or 'not recorded'}. {fig['lines_read']:,} lines read, {fig['rows_imported']:,} rows "
            f"imported, {fig['lines_rejected']:,} malformed lines set aside. Convictions screened are dated "
            f"from {esc(first or 'unknown')} to {esc(last or 'unknown')}.</p>"
            f"<p>Policy: <b>{esc(profile_title)}</b>. Rules are applied in order; the first that matches "
            f"decides.</p><ol>{rules}</ol>")

        for dim, title in BREAKDOWNS:
            groups = fig["groups"].get(dim) or {}
            order = group_order(dim, groups)
            metrics = [(k, label) for k, label in BREAKDOWN_METRICS if any(k in v for v in groups.values())]
            if any(k == "with_relief" for k, _ in metrics):
                metrics = [m for m in metrics if m[0] != "convictions_relieved"]
                rate = ("with_relief", "people", "Relief rate (people)")
                series = ("people", "with_relief")
            else:
                rate = ("convictions_relieved", "convictions", "Share relieved")
                series = ("convictions", "convictions_relieved")
            header = [title] + [label for _, label in metrics] + [rate[2]]
            rows = [[group_label(dim, g), *(pub(groups[g].get(k)) for k, _ in metrics),
                     share(groups[g].get(rate[0]), groups[g].get(rate[1]))] for g in order]
            self.breakdown_tables[dim].set_rows(header, rows)
            self.breakdown_charts[dim].set_data([group_label(dim, g) for g in order],
                                                [[groups[g].get(series[0]) for g in order],
                                                 [groups[g].get(series[1]) for g in order]])
