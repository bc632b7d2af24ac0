"""Draw the scaling figures of benchmarks/screen.py as a small PNG (QPainter, no other library).

    python benchmarks/screen.py --json figures.json ...
    QT_QPA_PLATFORM=offscreen python benchmarks/chart.py figures.json docs/performance-scale.png

Two panels against rows (log scale): seconds end to end, and peak memory in MB with the 1 GB
and 2 GB targets of issue 14, one line per kind of file.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen  # noqa: E402

COLORS = {"demo": QColor(31, 119, 180), "traps": QColor(44, 160, 44), "cannabis": QColor(214, 39, 40)}
LABELS = {"demo": "statewide-looking (demo-data)", "traps": "same, every data-quality trap",
          "cannabis": "most rows cannabis convictions"}


def _ticks(hi: float) -> list[float]:
    step = 10 ** math.floor(math.log10(hi / 4)) if hi > 0 else 1
    for m in (1, 2, 5, 10):
        if hi / (step * m) <= 6:
            step *= m
            break
    return [i * step for i in range(int(hi / step) + 2)]


def panel(p: QPainter, box: QRectF, table: list[dict], key: str, title: str, unit: str, targets=(),
          log_y: bool = False) -> None:
    rows = sorted({float(f"{r['rows']:.1g}") for r in table})   # 999,801 rows (traps) ticks as 1M
    lo, hi = math.log10(min(rows)), math.log10(max(rows))
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    plot = QRectF(box.left() + 58, box.top() + 34, box.width() - 70, box.height() - 76)
    x = lambda n: plot.left() + (math.log10(n) - lo) / (hi - lo) * plot.width()  # noqa: E731
    if log_y:  # a straight line of slope 1 is time growing as the rows do
        values = [r[key] for r in table]
        ylo, yhi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
        ticks = [10.0 ** k * m for k in range(ylo, yhi + 1) for m in (1, 2, 5) if 10.0 ** k * m <= 10.0 ** yhi]
        y = lambda v: plot.bottom() - (math.log10(v) - ylo) / (yhi - ylo) * plot.height()  # noqa: E731
    else:
        top = max([r[key] for r in table] + [t for t, _ in targets]) * 1.1
        ticks = _ticks(top)
        top = ticks[-1]
        y = lambda v: plot.bottom() - v / top * plot.height()  # noqa: E731
    p.setPen(QPen(QColor(30, 30, 30)))
    bold = QFont(p.font())
    bold.setBold(True)
    p.setFont(bold)
    p.drawText(QRectF(box.left(), box.top() + 8, box.width(), 22), Qt.AlignmentFlag.AlignHCenter, title)
    p.setFont(QFont(p.font().family(), 8))
    for t in ticks:
        p.setPen(QPen(QColor(225, 225, 225)))
        p.drawLine(QPointF(plot.left(), y(t)), QPointF(plot.right(), y(t)))
        p.setPen(QPen(QColor(80, 80, 80)))
        p.drawText(QRectF(box.left(), y(t) - 8, 52, 16), Qt.AlignmentFlag.AlignRight, f"{t:,g}" if t < 1 else f"{t:,.0f}")
    for n in rows:
        p.drawText(QRectF(x(n) - 40, plot.bottom() + 4, 80, 16), Qt.AlignmentFlag.AlignHCenter,
                   f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k")
    p.drawText(QRectF(plot.left(), plot.bottom() + 20, plot.width(), 16), Qt.AlignmentFlag.AlignHCenter,
               f"rows (log scale); {unit}")
    p.drawRect(plot)
    for value, label in targets:
        pen = QPen(QColor(120, 120, 120))
        pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QPointF(plot.left(), y(value)), QPointF(plot.right(), y(value)))
        p.drawText(QRectF(plot.left() + 4, y(value) - 16, 200, 14), Qt.AlignmentFlag.AlignLeft, label)
    for kind in ("demo", "traps", "cannabis"):
        points = sorted((r["rows"], r[key]) for r in table if r["kind"] == kind)
        if not points:
            continue
        pen = QPen(COLORS[kind])
        pen.setWidthF(2)
        p.setPen(pen)
        for (a, va), (b, vb) in zip(points, points[1:]):
            p.drawLine(QPointF(x(a), y(va)), QPointF(x(b), y(vb)))
        p.setBrush(COLORS[kind])
        for n, v in points:
            p.drawEllipse(QPointF(x(n), y(v)), 3.5, 3.5)
        p.setBrush(Qt.BrushStyle.NoBrush)


def draw(figures: dict, out: Path) -> None:
    table = figures["table"]
    image = QImage(980, 390, QImage.Format.Format_ARGB32)
    image.fill(QColor(255, 255, 255))
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    panel(p, QRectF(0, 0, 490, 340), table, "seconds", "clearrec screen: seconds end to end", "seconds (log scale)",
          log_y=True)
    panel(p, QRectF(490, 0, 490, 340), table, "peak_mb", "peak memory (MB)", "MB",
          targets=[(1000, "1 GB target (1M rows)"), (2000, "2 GB target (3M, 10M rows)")])
    p.setFont(QFont(p.font().family(), 8))
    left = 60
    for kind in ("demo", "traps", "cannabis"):
        if not any(r["kind"] == kind for r in table):
            continue
        p.setPen(QPen(COLORS[kind]))
        p.setBrush(COLORS[kind])
        p.drawRect(QRectF(left, 360, 10, 10))
        p.setPen(QPen(QColor(30, 30, 30)))
        p.drawText(QRectF(left + 14, 356, 260, 18), Qt.AlignmentFlag.AlignLeft, LABELS[kind])
        left += 290
    p.end()
    image.save(str(out))


def main() -> int:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (fonts need it)
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
    print(f"wrote {sys.argv[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
