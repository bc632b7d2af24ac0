"""A reportlab canvas whose PDFs carry no creation or modification date.

The app builds its PDFs with ``invariant=1`` so that the same run gives the same bytes (the
document id is not random). Reportlab then stamps every file "created 2000-01-01", a date a
clerk or a court reading the file's properties would take at face value. The info dictionary
written here leaves both dates out instead: a PDF without a date claims nothing, and the
filing's own date (on its face and in the audit trail) is the one that counts."""

from __future__ import annotations

from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfgen.canvas import Canvas


class UndatedInfo(PDFInfo):
    """PDFInfo without CreationDate and ModDate (every other entry as reportlab writes it)."""

    def format(self, document):
        entries = {
            "Title": PDFString(self.title), "Author": PDFString(self.author),
            "Producer": PDFString(self.producer), "Creator": PDFString(self.creator),
            "Subject": PDFString(self.subject), "Keywords": PDFString(self.keywords),
            "Trapped": PDFName(self.trapped),
        }
        return PDFDictionary(entries).format(document)


class UndatedCanvas(Canvas):
    """Pass as ``canvasmaker`` to a doc template's ``build``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._doc.info.__class__ = UndatedInfo
