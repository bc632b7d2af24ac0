"""A short letter to a person who asked whether their cannabis record was cleared.

One page or two in plain language: for each of the person's cannabis convictions the office
looked at, what the office asked the court, what the court ordered and when, and what that
means ("deemed never to have occurred" for a dismissal and sealing; a misdemeanor or infraction
"for all purposes" for a redesignation). Only the convictions given are mentioned: never the
person's other record, never another person. The bundled font is embedded (pleading.py), so
names print as recorded. No date of birth or CII number is printed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer

from .pleading import BOLD, FONT, _fonts, _long_date, _x

ASKED = {
    "dismiss_statute": "dismiss the conviction and seal the record",
    "dismiss_policy": "dismiss the conviction in the interest of justice and seal the record",
    "redesignate_misdemeanor": "reduce (redesignate) the conviction to a misdemeanor",
    "redesignate_infraction": "reduce (redesignate) the conviction to an infraction",
    "resentence_misdemeanor": "resentence the conviction as a misdemeanor",
    "resentence_infraction": "resentence the conviction as an infraction",
    "redesignate_policy": "reduce (redesignate) the conviction",
    "challenged": "deny relief: the office opposed relief for this conviction",
}
ORDERED = {
    "granted": "The court granted the request",
    "granted_differently": "The court granted relief, but not exactly as the office asked",
    "denied": "The court denied the request",
    "continued": "The court has not decided yet (the matter was continued)",
}
DEEMED = ("When a court dismisses a cannabis conviction and seals the record under Health and Safety Code "
          "section 11361.8, the arrest, the conviction and the court proceedings are deemed never to have "
          "occurred. Records kept by the Department of Justice are updated after the court tells it about the order.")
REDUCED = ("A conviction the court redesignated as a misdemeanor or an infraction is a misdemeanor or an infraction "
           "for all purposes (Health and Safety Code section 11361.8, subdivision (h)).")
NOT_ADVICE = ("This letter tells you what our records show. It is not legal advice. For advice about your own "
              "situation, you may contact the Public Defender or a lawyer of your choice.")

_BODY = ParagraphStyle("letter", fontName=FONT, fontSize=11.5, leading=15, spaceAfter=8)
_HEAD = ParagraphStyle("letter-head", parent=_BODY, fontName=BOLD, fontSize=12.5, spaceAfter=4)
_SMALL = ParagraphStyle("letter-small", parent=_BODY, fontSize=10, leading=13)


def _date_text(value: Any) -> str:
    return _long_date(value) if value else "(date not recorded)"


def conviction_paragraph(row: Mapping[str, Any]) -> str:
    """What the office asked and what the court did for one conviction, as plain text (markup-safe)."""
    case = _x(row.get("court_case_number") or "(no case number)")
    where = _x(row.get("courthouse") or "")
    when = row.get("conviction_date")
    section = _x(row.get("code_section") or "")
    head = f"Case {case}" + (f", {where}" if where else "") + (f": {section}" if section else "") \
        + (f", conviction of {_date_text(when)}" if when else "")
    status = row.get("status") or "screened"
    if status in ("screened", "decided") or not row.get("filing_id"):
        return f"<b>{head}.</b> Our office has not filed a request with the court about this conviction yet."
    asked = ASKED.get(row.get("action") or "", "grant relief under Health and Safety Code section 11361.8")
    text = f"<b>{head}.</b> On {_date_text(row.get('filed_on'))} our office asked the court to {asked}."
    ruling = row.get("ruling")
    if ruling:
        text += f" {ORDERED.get(ruling, 'The court ruled')}" + (
            f" on {_date_text(row.get('order_date'))}." if ruling != "continued" else ".")
    else:
        text += " The court has not ruled yet."
    if row.get("reported_on"):
        text += f" The court reported its order to the Department of Justice on {_date_text(row.get('reported_on'))}."
    return text


def build_status_letter(person: Mapping[str, Any], convictions: Sequence[Mapping[str, Any]],
                        office: Mapping[str, Any], *, today: date, mailing_address: str | None = None) -> bytes:
    """The letter as PDF bytes. ``person``: at least ``name``; ``convictions``: the rows of
    ``Workspace.lookup`` for this person only (status, action, ruling, dates)."""
    _fonts()
    story: list = []
    sender = [office.get("office") or "Office of the District Attorney",
              office.get("address") or "", office.get("phone") or ""]
    for line in sender:
        for part in str(line).splitlines():
            if part.strip():
                story.append(Paragraph(_x(part.strip()), _SMALL))
    story += [Spacer(1, 0.25 * inch), Paragraph(_long_date(today), _BODY), Spacer(1, 0.1 * inch)]
    story.append(Paragraph(_x(person.get("name") or ""), _BODY))
    for part in (mailing_address or "").splitlines():
        if part.strip():
            story.append(Paragraph(_x(part.strip()), _BODY))
    story += [Spacer(1, 0.15 * inch),
              Paragraph("Re: your cannabis conviction record (Health and Safety Code section 11361.8)", _HEAD),
              Spacer(1, 0.05 * inch),
              Paragraph("You asked our office whether your cannabis conviction record has been cleared. "
                        "Here is what our records show for the cannabis conviction"
                        + ("s" if len(convictions) != 1 else "") + " we reviewed under Proposition 64.", _BODY)]
    for row in convictions:
        story.append(Paragraph(conviction_paragraph(row), _BODY))
    # only an order granted as asked says what relief it gave; "granted differently" is not explained
    granted = [r for r in convictions if r.get("ruling") == "granted"]
    if any((r.get("action") or "").startswith("dismiss") for r in granted):
        story += [Paragraph("What a dismissal and sealing means", _HEAD), Paragraph(DEEMED, _BODY)]
    if any((r.get("action") or "").startswith(("redesignate", "resentence")) for r in granted):
        story += [Paragraph("What a reduction means", _HEAD), Paragraph(REDUCED, _BODY)]
    if not convictions:
        story.append(Paragraph("Our records hold no cannabis conviction the office reviewed under this law.", _BODY))
    story += [Spacer(1, 0.1 * inch), Paragraph(NOT_ADVICE, _SMALL), Spacer(1, 0.3 * inch),
              KeepTogether([Paragraph("Sincerely,", _BODY),
                            Paragraph(_x(office.get("district_attorney") or ""), _BODY),
                            Paragraph("District Attorney" + (f", County of {_x(office['county'])}"
                                                             if office.get("county") else ""), _BODY)])]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=LETTER, leftMargin=1.1 * inch, rightMargin=1.1 * inch,
                            topMargin=0.9 * inch, bottomMargin=0.9 * inch, title="Status letter",
                            author=str(office.get("office") or "District Attorney"), subject="Cannabis record status",
                            invariant=1)
    doc.build(story)
    return buf.getvalue()
