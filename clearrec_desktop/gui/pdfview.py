"""PDF pages as images (pypdfium2) for the in-app preview and for printing.

There is no QtPdf in the app: pages are rasterised by PDFium and painted with QPainter, onto a
preview widget or a ``QPrinter``. PDFium is not thread-safe, not even across documents, so every
call into it holds ``_PDFIUM`` and closes what it opened before letting go (pypdfium2 otherwise
closes pages in finalisers, which could run later on another thread). The documents are bytes in
memory: nothing here reads or writes a file.
"""

from __future__ import annotations

import threading
from typing import Callable

import pypdfium2 as pdfium
from PySide6.QtCore import QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPageSize, QPainter, QPixmap, QTransform
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..core.errors import Cancelled, InputError

_PDFIUM = threading.RLock()
PREVIEW_DPI = 96.0     # preview pages at screen size (100 %)
PRINT_MAX_DPI = 300.0  # enough for text on any office printer; 1200 dpi pages would be 500 MB each
POINTS_PER_INCH = 72.0


def page_count(data: bytes) -> int:
    with _PDFIUM:
        doc = pdfium.PdfDocument(data)
        try:
            return len(doc)
        finally:
            doc.close()


def _to_qimage(bitmap) -> QImage:
    """A QImage that owns a copy of the bitmap's pixels (grayscale or RGBx)."""
    fmt = {"L": QImage.Format.Format_Grayscale8, "RGBX": QImage.Format.Format_RGBX8888,
           "RGBA": QImage.Format.Format_RGBA8888}.get(bitmap.mode)
    if fmt is None:  # not asked for; a pdfium change would land here rather than show garbage
        raise InputError(f"unexpected page image format {bitmap.mode}")
    return QImage(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride, fmt).copy()


def render_pages(data: bytes, first: int = 0, count: int = 1, *, dpi: float = PREVIEW_DPI,
                 grayscale: bool = True) -> list[QImage]:
    """Pages ``first`` .. ``first + count - 1`` (0-based, clipped to the document) as images at ``dpi``.

    Court documents are black and white, so grayscale (one byte a pixel) is the default."""
    scale = dpi / POINTS_PER_INCH
    out = []
    with _PDFIUM:
        doc = pdfium.PdfDocument(data)
        try:
            for i in range(max(0, first), min(len(doc), first + count)):
                page = doc[i]
                try:
                    options = {"grayscale": True} if grayscale else {"prefer_bgrx": True, "rev_byteorder": True}
                    bitmap = page.render(scale=scale, **options)
                    try:
                        out.append(_to_qimage(bitmap))
                    finally:
                        bitmap.close()
                finally:
                    page.close()
        finally:
            doc.close()
    return out


def page_sizes(data: bytes) -> list[tuple[float, float]]:
    """Each page's (width, height) in points."""
    with _PDFIUM:
        doc = pdfium.PdfDocument(data)
        try:
            sizes = []
            for i in range(len(doc)):
                page = doc[i]
                try:
                    sizes.append(tuple(page.get_size()))
                finally:
                    page.close()
            return sizes
        finally:
            doc.close()


def prepare_printer(printer: QPrinter, doc_name: str) -> None:
    """Letter paper, whole sheet addressable: the documents carry their own margins (pleading
    paper puts line numbers and rules at fixed places), so nothing is scaled for a margin."""
    printer.setDocName(doc_name)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter))
    printer.setFullPage(True)


def print_pdf(data: bytes, printer: QPrinter, progress: Callable[[float, str], None] | None = None,
              cancel: threading.Event | None = None) -> int:
    """Paint every page (or the range chosen in the print dialog) onto ``printer``; returns the
    number of pages printed. Safe on a worker thread: Qt allows painting on a QPrinter there,
    and PDFium is only used under its lock.

    Each page is scaled to fit the sheet, keeping its proportions (1:1 for Letter on Letter);
    a landscape page (the exhibits) is turned to fit portrait paper and the other way round."""
    total = page_count(data)
    first, last = 1, total
    if printer.fromPage() > 0:
        first = max(1, printer.fromPage())
        last = min(total, printer.toPage() or total)
    if first > last:
        raise InputError(f"the document has {total} pages; choose pages within 1 to {total}")
    dpi = min(float(printer.resolution()), PRINT_MAX_DPI)
    painter = QPainter()
    if not painter.begin(printer):
        raise InputError("the printer could not be started (check that it is connected and not paused)")
    printed = 0
    try:
        for number in range(first, last + 1):
            if cancel is not None and cancel.is_set():
                printer.abort()
                raise Cancelled()
            if printed:
                printer.newPage()
            image = render_pages(data, number - 1, 1, dpi=dpi)[0]
            sheet = printer.pageLayout().fullRectPixels(printer.resolution())
            if (image.width() > image.height()) != (sheet.width() > sheet.height()):
                # turned a quarter anticlockwise, top to the left edge, as printers print landscape
                image = image.transformed(QTransform().rotate(-90))
            painter.drawImage(_fit(image.size(), sheet), image)
            printed += 1
            if progress is not None:
                progress(printed / (last - first + 1), f"Printing page {number} of {total}")
    finally:
        if painter.isActive():
            painter.end()
    return printed


def _fit(size: QSize, area: QRect) -> QRectF:
    """The largest rectangle of ``size``'s proportions centred in ``area``."""
    scale = min(area.width() / max(1, size.width()), area.height() / max(1, size.height()))
    w, h = size.width() * scale, size.height() * scale
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)


class PagePreview(QScrollArea):
    """Page images stacked in a scroll area, as a PDF viewer shows them, scaled to the width of
    the view (never above 100 %); tells which page is in view.

    The images are made on the worker with the document; only the first few pages are shown
    (the whole document opens in the system's PDF viewer once saved)."""

    page_changed = Signal(int)  # 1-based number of the page at the top of the view

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Document preview")
        self.setWidgetResizable(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # arrow keys and Page Up / Down scroll it
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("previewBody")
        self._layout = QVBoxLayout(body)
        self._layout.setSpacing(12)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setWidget(body)
        self._images: list[QImage] = []
        self._pages: list[QLabel] = []
        self._note = QLabel()
        self._note.setWordWrap(True)
        self._note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self._note)
        self._current = 0
        self._width = 0
        self._rescale = QTimer(self)
        self._rescale.setSingleShot(True)
        self._rescale.setInterval(60)  # once a resize pauses, not on every pixel of a drag
        self._rescale.timeout.connect(self._scale_pages)
        self.verticalScrollBar().valueChanged.connect(self._on_scroll)

    def set_pages(self, images: list[QImage], total: int, name: str = "") -> None:
        for label in self._pages:
            self._layout.removeWidget(label)
            label.deleteLater()
        self._images = list(images)
        self._pages = []
        for n in range(1, len(images) + 1):
            label = QLabel()
            label.setFrameShape(QFrame.Shape.Box)
            label.setAccessibleName(f"{name} page {n} of {total}" if name else f"Page {n} of {total}")
            self._layout.insertWidget(n - 1, label, 0, Qt.AlignmentFlag.AlignHCenter)
            self._pages.append(label)
        self._width = 0
        self._scale_pages()
        if not images:
            self._note.setText("Build the documents to preview them here.")
        elif total > len(images):
            self._note.setText(f"The preview shows the first {len(images)} of {total} pages. Save, then "
                               "open the document in your PDF viewer to read every page.")
        else:
            self._note.setText(f"End of the document ({total} page{'s' if total != 1 else ''}).")
        self.verticalScrollBar().setValue(0)
        self._current = 1 if images else 0
        self.page_changed.emit(self._current)

    def images(self) -> list[QImage]:
        """The page images as rendered (before scaling to the view)."""
        return list(self._images)

    def _scale_pages(self) -> None:
        margins = self._layout.contentsMargins()
        width = self.viewport().width() - margins.left() - margins.right() - 2
        if width == self._width or width <= 0:
            return
        self._width = width
        for label, image in zip(self._pages, self._images):
            pixmap = QPixmap.fromImage(image)
            if image.width() > width:
                pixmap = pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
            label.setPixmap(pixmap)
            label.setFixedSize(pixmap.size() + QSize(2, 2))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale.start()

    def page_count_shown(self) -> int:
        return len(self._pages)

    def current_page(self) -> int:
        return self._current

    def show_page(self, number: int) -> None:
        if 1 <= number <= len(self._pages):
            self.verticalScrollBar().setValue(self._pages[number - 1].y())
            self._set_current(number)

    def _on_scroll(self, value: int) -> None:
        if not self._pages:
            return
        # the last page whose top is at or above the middle of the view
        middle = value + self.viewport().height() // 2
        current = 1
        for n, label in enumerate(self._pages, start=1):
            if label.y() <= middle:
                current = n
        self._set_current(current)

    def _set_current(self, number: int) -> None:
        if number != self._current:
            self._current = number
            self.page_changed.emit(number)
