"""Charts drawn with QPainter: one helper paints every chart's title, focus frame and empty state."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QSizePolicy,
    QWidget,
)


def paint_chart_frame(widget: QWidget, painter: QPainter, title: str, title_h: int, has_data: bool) -> bool:
    """The part every chart shares: its bold title, a focus frame, and "no data" when empty.
    Returns whether there is anything to draw below the title."""
    pal = widget.palette()
    font = painter.font()
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(pal.color(QPalette.ColorRole.WindowText))
    painter.drawText(0, 0, widget.width(), title_h, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
    font.setBold(False)
    painter.setFont(font)
    if widget.hasFocus():
        painter.setPen(pal.color(QPalette.ColorRole.Highlight))
        painter.drawRect(widget.rect().adjusted(0, 0, -1, -1))
    if not has_data:
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(0, title_h, widget.width(), widget.fontMetrics().height() + 6, Qt.AlignmentFlag.AlignLeft, "no data")
    return has_data

class BarChart(QWidget):
    """Horizontal bars with labels and counts, painted from the palette (light or dark)."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._title = title
        self._items: list[tuple[str, int]] = []
        self.label_width = 0  # a shared minimum, so several charts line their bars up
        self.setAccessibleName(title)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # so a screen reader can reach the figures
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_items(self, items: Sequence[tuple[str, int]]) -> None:
        self._items = [(str(k), int(v)) for k, v in items]
        self.setAccessibleDescription("; ".join(f"{k}: {v:,}" for k, v in self._items) or "no data")
        self.setToolTip(self.accessibleDescription())
        self.updateGeometry()
        self.update()

    def items(self) -> list[tuple[str, int]]:
        return list(self._items)

    def needed_label_width(self) -> int:
        fm = self.fontMetrics()
        return max((fm.horizontalAdvance(k) for k, _ in self._items), default=0) + 10

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 6

    def sizeHint(self) -> QSize:
        return QSize(380, (len(self._items) + 1) * self._row_height() + 12)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, self.sizeHint().height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fm = self.fontMetrics()
        rh = self._row_height()
        if not paint_chart_frame(self, painter, self._title, rh, bool(self._items)):
            return
        label_w = min(max(self.label_width, self.needed_label_width()), self.width() // 2)
        value_w = max(fm.horizontalAdvance(f"{v:,}") for _, v in self._items) + 10
        bar_w = max(10, self.width() - label_w - value_w - 4)
        top = max(v for _, v in self._items) or 1
        bar_color = pal.color(QPalette.ColorRole.Highlight)
        for i, (label, value) in enumerate(self._items):
            y = rh * (i + 1) + 4
            painter.setPen(pal.color(QPalette.ColorRole.WindowText))
            shown = fm.elidedText(label, Qt.TextElideMode.ElideRight, label_w - 6)
            painter.drawText(0, y, label_w - 6, rh, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown)
            w = int(bar_w * value / top)
            painter.fillRect(label_w, y + 3, max(w, 1 if value else 0), rh - 6, bar_color)
            painter.drawText(label_w + w + 4, y, value_w, rh, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{value:,}")
        painter.end()


# -- progress strip shared by the views that start long work -------------------------------------
