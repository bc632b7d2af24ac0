"""What goes into a filing: the office's details, the filing's options (posture, dates, what the
office chose to include) and the selection of convictions (granted, challenged, left out) from
the results, the attorneys' decisions and their corrections of the record.

Every granted row carries its legal basis (``relief_basis``): a statutory dismissal or
redesignation under HS 11361.8, or relief beyond the statute on the People's motion under the
office's criteria. The basis comes from the screening (the profile rule that decided the row)
and is never guessed: a results file without it is read as statutory only when the statutory
profile made it; otherwise its rows stay out of the filing and the cover report says why.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from ..errors import InputError
from ..safety import local_path

RESULTS_COLUMNS = (
    "conviction_id", "source_file", "source_line", "subject_id", "cii_number", "name", "dob",
    "gender", "race", "court_case_number", "courthouse", "county", "conviction_date",
    "conviction_date_quality", "cycle_date", "count_key", "code_section",
    "code_section_original", "qualifier", "level", "age_at_offence", "age_at_conviction",
    "sentence_end", "outcome", "relief", "relief_track", "reasons", "rules", "citations",
    "evidence", "flags",
)
# Added by later screening versions; an older results file lacks it (see select_for_filing).
BASIS_COLUMN = "relief_basis"
RELIEF_BASES = {
    "statute_dismissal": "HS 11361.8: the conduct is now lawful",
    "statute_redesignation": "HS 11361.8: redesignation or resentencing",
    "policy_dismissal": "Dismissal beyond the statute on the People's motion (PC 1385), office criteria",
    "policy_redesignation": "Redesignation beyond the statute at the People's request, office criteria",
}
DECISIONS = ("accept", "dismiss", "reduce", "challenge", "defer")
GROUNDS = {
    "not_eligible": "Not eligible (HS 11361.8)",
    "public_safety": "Risk to public safety (HS 11361.9)",
}
# Exhibit A parts, in filing order: key -> (part label, relief column text).
GROUPS = {
    "dismiss_statute": ("Dismiss and seal: conduct now lawful (HS 11361.8)", "Dismiss and seal"),
    "dismiss_policy": ("Dismiss in furtherance of justice (PC 1385) and seal: office criteria",
                       "Dismiss (PC 1385) and seal"),
    "redesignate_misdemeanor": ("Redesignate as misdemeanor (HS 11361.8(f), (h))", "Redesignate: misdemeanor"),
    "redesignate_infraction": ("Redesignate as infraction (HS 11361.8(f), (h))", "Redesignate: infraction"),
    "resentence": ("Recall and resentence (HS 11361.8(b), (h))", "Resentence"),
    "redesignate_policy": ("Redesignate beyond the statute: office criteria", "Redesignate (office criteria)"),
}
GROUP_COUNTS = {
    "dismiss_statute": "to dismiss and seal under section 11361.8",
    "dismiss_policy": "to dismiss in furtherance of justice under the office's criteria",
    "redesignate_misdemeanor": "to redesignate as misdemeanors",
    "redesignate_infraction": "to redesignate as infractions",
    "resentence": "to resentence",
    "redesignate_policy": "to redesignate under the office's criteria",
}
POSTURES = {
    "doj_list": "Response to the Department of Justice's list (HS 11361.9)",
    "supplemental": "Supplemental motion: convictions the Department of Justice's list missed",
    "petition": "Response to an individual petition or application (HS 11361.8)",
}
INCLUSIONS = {
    "undecided": "Include proposals no attorney has overridden",
    "decided": "Only proposals an attorney accepted and attorneys' own decisions",
}
# Facts of the record a decision may correct (what the court sees), with their labels.
CORRECTABLE = {
    "code_section": "Code section",
    "level": "Level",
    "conviction_date": "Conviction date",
    "court_case_number": "Court case number",
    "name": "Name as charged",
}
LEFT_OUT = {  # left_out_kind -> what the cover report and the view call it
    "review": "still in attorney review",
    "defer": "deferred by an attorney",
    "unresolved": "decision needs attention",
    "undecided": "no attorney decision (the office filed only decided convictions)",
    "not_challenged": "ineligible proposal no attorney has challenged",
    "juvenile": "under 18 at the offense (juvenile matter)",
    "no_case_number": "no court case number on record",
    "on_doj_list": "on DOJ's list (filed in the response to that list, not in a supplemental motion)",
    "basis_unknown": "legal basis not recorded by the screening",
    "unprintable": "name or case data the bundled fonts cannot print",
    "too_long": "too long to print on one page",
    "build_failed": "its document could not be built",
}
DEADLINE_11361_9 = date(2020, 7, 1)       # AB 1793: the prosecution's time to challenge
ORDERS_DEADLINE_AB1706 = date(2023, 3, 1)  # AB 1706: courts issue orders for the unchallenged
OFFICE_KEYS = ("district_attorney", "state_bar_number", "office", "address", "phone", "email",
               "court", "county")
OFFICE_OPTIONAL = ("public_defender", "public_defender_address", "attorney_for", "deputy",
                   "deputy_state_bar_number")
_UNKNOWN_CASE = {"", "NULL", "NONE", "N/A", "NA", "UNKNOWN", "-"}

# --------------------------------------------------------------------------- the office


@dataclass
class Office:
    district_attorney: str
    state_bar_number: str
    office: str
    address: str
    phone: str
    email: str
    court: str
    county: str
    public_defender: str | None = None
    attorney_for: str = "The People of the State of California"
    deputy: str | None = None  # the deputy DA who reviewed: signs, declares, is in the caption
    deputy_state_bar_number: str | None = None
    public_defender_address: str | None = None
    # Prosecuting city attorneys served with the filing ("name" or "name, address" each).
    city_attorneys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.public_defender:
            self.public_defender = f"Public Defender of {_county_name(self.county)} County"
        if self.deputy and not self.deputy_state_bar_number:
            raise InputError("office details: the deputy who signs needs a State Bar number "
                             "(deputy_state_bar_number): the caption shows it (CRC 2.111)")
        self.city_attorneys = tuple(c.strip() for c in self.city_attorneys if c and c.strip())

    @property
    def signer(self) -> str:
        return self.deputy or self.district_attorney

    @property
    def signer_role(self) -> str:
        return "Deputy District Attorney" if self.deputy else "District Attorney"

    @property
    def signer_bar_number(self) -> str:
        return (self.deputy_state_bar_number if self.deputy else self.state_bar_number) or ""

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]

    @property
    def court_title(self) -> str:
        return court_title(self.court, self.county)


def court_title(court: str, county: str) -> str:
    """The court as captions print it: "SUPERIOR COURT OF THE STATE OF CALIFORNIA, COUNTY OF X"."""
    text = " ".join((court or "").split()).upper()
    if not text:
        text = "SUPERIOR COURT OF THE STATE OF CALIFORNIA"
    if "COUNTY OF" not in text and county:
        text = f"{text}, COUNTY OF {_county_name(county).upper()}"
    return text


def load_office(path: Path) -> Office:
    """Read the office file (TOML, top-level keys or an ``[office]`` table)."""
    path = local_path(path, what="office file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot read the office file ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: not a valid TOML office file ({exc})") from None
    if isinstance(data.get("office"), dict):
        data = data["office"]
    values: dict = {}
    for key in OFFICE_KEYS + OFFICE_OPTIONAL:
        value = data.get(key)
        if value is None:
            if key in OFFICE_KEYS:
                raise InputError(f"{path.name}: office file is missing the key '{key}'")
            continue
        if isinstance(value, list) and key in ("address", "public_defender_address"):
            value = "\n".join(str(v) for v in value)
        if isinstance(value, int) and key in ("state_bar_number", "deputy_state_bar_number"):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{path.name}: office key '{key}' must be non-empty text")
        values[key] = value.strip()
    cities = data.get("city_attorneys", [])
    if isinstance(cities, str):
        cities = [cities]
    if not isinstance(cities, list) or not all(isinstance(c, (str, dict)) for c in cities):
        raise InputError(f"{path.name}: 'city_attorneys' must be a list of names (with their addresses)")
    values["city_attorneys"] = tuple(
        c if isinstance(c, str) else ", ".join(str(c.get(k, "")).strip() for k in ("name", "address") if c.get(k))
        for c in cities)
    try:
        return Office(**values)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None


def _county_name(county: str) -> str:
    text = " ".join(county.split())
    if text.upper().endswith(" COUNTY"):
        text = text[: -len(" COUNTY")]
    return text.title()


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class FilingOptions:
    """The office's choices for one filing; recorded in the documents' metadata and stated in
    the declaration.

    posture: ``doj_list`` (response to DOJ's HS 11361.9 list, received ``doj_list_received``),
    ``supplemental`` (convictions the list missed, from the county's records) or ``petition``
    (response to a petition or application filed ``petition_filed`` in ``petition_cases``).
    include: ``undecided`` puts in proposals no attorney has overridden; ``decided`` only what an
    attorney accepted or decided. An ``ineligible`` proposal is a challenge only when an attorney
    made it one, or when the office sets ``challenge_ineligible``.
    """

    posture: str = "doj_list"
    doj_list_received: date | None = None
    petition_filed: date | None = None
    petition_cases: tuple[str, ...] = ()
    include: str = "undecided"
    challenge_ineligible: bool = False
    include_juvenile: bool = False
    compact: bool = False              # 9-pt exhibits, when the office's court accepts them
    filing_date: date | None = None    # the date the papers are dated (None: left blank)
    versions: tuple[str, ...] = ("sealed", "public")

    def __post_init__(self) -> None:
        if self.posture not in POSTURES:
            raise InputError(f"unknown filing posture {self.posture!r}; use {', '.join(POSTURES)}")
        if self.include not in INCLUSIONS:
            raise InputError(f"unknown inclusion choice {self.include!r}; use {', '.join(INCLUSIONS)}")
        if self.posture == "doj_list" and self.doj_list_received is None:
            raise InputError("a response to the Department of Justice's list needs the date the list was received")
        if self.posture == "petition":
            if self.petition_filed is None:
                raise InputError("a response to a petition or application needs the date it was filed")
            if not [c for c in self.petition_cases if c.strip()]:
                raise InputError("a response to a petition or application needs the court case number(s) it names")
        bad = set(self.versions) - {"sealed", "public"}
        if bad or not self.versions:
            raise InputError("versions: choose 'sealed' (lodged conditionally under seal), 'public' (redacted) or both")

    @property
    def late(self) -> bool:
        """A response to DOJ's list made after the July 1, 2020 deadline of HS 11361.9."""
        if self.posture != "doj_list":
            return False
        when = self.filing_date or date.max
        return when > DEADLINE_11361_9 or (self.doj_list_received or date.min) > DEADLINE_11361_9

    def metadata(self) -> dict:
        """What the documents record about the choices (no personal data)."""
        return {
            "posture": self.posture,
            "doj_list_received": self.doj_list_received.isoformat() if self.doj_list_received else None,
            "petition_filed": self.petition_filed.isoformat() if self.petition_filed else None,
            "petition_cases": len(self.petition_cases),
            "include": self.include,
            "challenge_ineligible": self.challenge_ineligible,
            "include_juvenile": self.include_juvenile,
            "layout": "compact" if self.compact else "standard",
            "filing_date": self.filing_date.isoformat() if self.filing_date else None,
        }


# --------------------------------------------------------------------------- selection


@dataclass
class Selection:
    """What goes to the court. Every results row is in exactly one of the three frames.

    Added columns: ``primary_name`` and ``aka`` (other names of the same subject_id),
    ``decided_by`` (engine / attorney), ``reviewed`` (an attorney recorded a decision),
    ``decision``, ``corrected`` (fields corrected by a decision); granted rows have ``group``
    (a GROUPS key), ``filing_relief``, ``relief_basis``, ``basis`` (the cite printed) and
    ``criterion`` (the office's rule in words, for policy rows); challenged rows ``ground`` and
    ``ground_reason``; left-out rows ``left_out_kind`` (a LEFT_OUT key) and ``left_out_reason``.
    """

    granted: pl.DataFrame
    challenged: pl.DataFrame
    left_out: pl.DataFrame
    total: int = 0
    options: FilingOptions = field(default_factory=lambda: FilingOptions(posture="supplemental"))
    corrections: pl.DataFrame | None = None   # applied: conviction_id, field, original, value, source
    notes: tuple[str, ...] = ()               # for the cover report (e.g. basis fallback)

    @property
    def courthouses(self) -> list[str]:
        names = set(self.granted["courthouse"].to_list()) | set(self.challenged["courthouse"].to_list())
        return sorted(names)

    def for_courthouse(self, courthouse: str) -> "Selection":
        def pick(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.filter(pl.col("courthouse") == courthouse)
        return dataclasses.replace(self, granted=pick(self.granted), challenged=pick(self.challenged),
                                   left_out=pick(self.left_out))

    def hold(self, ids: dict[str, tuple[str, str]]) -> "Selection":
        """Move granted / challenged rows to the left-out list: ``{conviction_id: (kind, reason)}``
        (rows a document cannot print, found while building)."""
        if not ids:
            return self
        keys = pl.DataFrame({"conviction_id": list(ids), "left_out_kind": [k for k, _ in ids.values()],
                             "left_out_reason": [r for _, r in ids.values()]},
                            schema={"conviction_id": pl.String, "left_out_kind": pl.String, "left_out_reason": pl.String})
        moved = [f.join(keys, on="conviction_id", how="inner") for f in (self.granted, self.challenged)]
        cols = self.left_out.columns
        moved = [m.with_columns([pl.lit("").alias(c) for c in cols if c not in m.columns]).select(cols) for m in moved]
        return dataclasses.replace(
            self,
            granted=self.granted.join(keys, on="conviction_id", how="anti"),
            challenged=self.challenged.join(keys, on="conviction_id", how="anti"),
            left_out=_sort(pl.concat([self.left_out, *moved], how="vertical")))


def _as_text_frame(results: pl.DataFrame, what: str) -> pl.DataFrame:
    missing = [c for c in RESULTS_COLUMNS if c not in results.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}")
    optional = (BASIS_COLUMN, "provenance")  # later screening versions; a reconciliation's lists
    cols = list(RESULTS_COLUMNS) + [c for c in optional if c in results.columns]
    # Only the contract's columns travel on: nothing else (an SSN, say) can reach a document.
    return results.select(
        [pl.col(c).cast(pl.String).fill_null("").str.strip_chars().alias(c) for c in cols]
    )


def _read_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    if "conviction_id" not in decisions.columns or "decision" not in decisions.columns:
        raise InputError("decisions: need the columns conviction_id and decision")
    cols = [pl.col(c).cast(pl.String).fill_null("").str.strip_chars() for c in ("conviction_id", "decision")]
    for optional in ("ground", "reason", "relief", BASIS_COLUMN):
        if optional in decisions.columns:
            cols.append(pl.col(optional).cast(pl.String).fill_null("").str.strip_chars())
        else:
            cols.append(pl.lit("").alias(optional))
    frame = decisions.select(cols).with_columns(pl.col("decision").str.to_lowercase(),
                                                pl.col("ground").str.to_lowercase(),
                                                pl.col(BASIS_COLUMN).str.to_lowercase())
    bad = sorted(set(frame["decision"].to_list()) - set(DECISIONS))
    if bad:
        raise InputError(f"decisions: unknown decision value(s) {', '.join(map(repr, bad))}; "
                         f"use {', '.join(DECISIONS)}")
    bad = sorted(set(frame[BASIS_COLUMN].to_list()) - set(RELIEF_BASES) - {""})
    if bad:
        raise InputError(f"decisions: unknown relief basis {', '.join(map(repr, bad))}; use {', '.join(RELIEF_BASES)}")
    # The workspace appends decisions; the last one for a conviction is the one in force.
    return frame.unique(subset="conviction_id", keep="last", maintain_order=True)


def read_corrections(corrections: pl.DataFrame | None, ids: pl.Series | None = None) -> pl.DataFrame:
    """Corrections of the record as a long frame (conviction_id, field, value, source); the last
    one per conviction and field is in force. Each needs a source (where the right value was seen)."""
    schema = {"conviction_id": pl.String, "field": pl.String, "value": pl.String, "source": pl.String}
    if corrections is None or corrections.height == 0:
        return pl.DataFrame(schema=schema)
    missing = [c for c in schema if c not in corrections.columns]
    if missing:
        raise InputError(f"corrections: missing column(s) {', '.join(missing)}")
    frame = corrections.select([pl.col(c).cast(pl.String).fill_null("").str.strip_chars() for c in schema])
    bad = sorted(set(frame["field"].to_list()) - set(CORRECTABLE))
    if bad:
        raise InputError(f"corrections: a decision can correct {', '.join(CORRECTABLE)}; not {', '.join(map(repr, bad))}")
    if (frame["source"] == "").any():
        raise InputError("corrections: each correction needs its source (e.g. the court file)")
    if (frame["value"] == "").any():
        raise InputError("corrections: a correction needs the corrected value")
    bad_dates = frame.filter((pl.col("field") == "conviction_date")
                             & pl.col("value").str.to_date("%Y-%m-%d", strict=False).is_null())
    if bad_dates.height:
        raise InputError("corrections: a corrected conviction date is written YYYY-MM-DD")
    bad_levels = frame.filter((pl.col("field") == "level") & ~pl.col("value").str.to_uppercase().is_in(["F", "M", "I"]))
    if bad_levels.height:
        raise InputError("corrections: a corrected level is F, M or I")
    frame = frame.with_columns(pl.when(pl.col("field") == "level").then(pl.col("value").str.to_uppercase())
                               .otherwise(pl.col("value")).alias("value"))
    if ids is not None:
        unknown = frame.join(pl.DataFrame({"conviction_id": ids}), on="conviction_id", how="anti")
        if unknown.height:
            raise InputError(f"corrections: {unknown.height} correction(s) refer to convictions that are not in "
                             f"these results")
    return frame.unique(subset=["conviction_id", "field"], keep="last", maintain_order=True)


def _apply_corrections(res: pl.DataFrame, corr: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Documents print the corrected values; the applied list keeps the original beside each."""
    applied = []
    res = res.with_columns(pl.lit("").alias("corrected"))
    for fld in CORRECTABLE:
        part = corr.filter(pl.col("field") == fld).select("conviction_id", pl.col("value").alias("_v"),
                                                          pl.col("source").alias("_s"))
        if not part.height:
            continue
        joined = res.select("conviction_id", fld).join(part, on="conviction_id", how="inner")
        applied.append(joined.select("conviction_id", pl.lit(fld).alias("field"), pl.col(fld).alias("original"),
                                     pl.col("_v").alias("value"), pl.col("_s").alias("source")))
        res = res.join(part, on="conviction_id", how="left").with_columns(
            pl.coalesce("_v", fld).alias(fld),
            pl.when(pl.col("_v").is_not_null())
            .then(pl.concat_str([pl.col("corrected"), pl.lit(fld)], separator=" ").str.strip_chars())
            .otherwise(pl.col("corrected")).alias("corrected"),
        ).drop("_v", "_s")
    schema = {"conviction_id": pl.String, "field": pl.String, "original": pl.String, "value": pl.String,
              "source": pl.String}
    return res, (pl.concat(applied) if applied else pl.DataFrame(schema=schema))


def _first_reason(text: str) -> str:
    """The deciding rule's reason in plain words: no evidence, no citation brackets."""
    first = text.split(" | ")[0]
    first = re.split(r"\s+Evidence:", first)[0]
    return re.sub(r"\s*\[[^\]]*\]\s*$", "", first).strip()


def _has_case_number() -> pl.Expr:
    return ~pl.col("court_case_number").str.to_uppercase().is_in(list(_UNKNOWN_CASE))


def select_for_filing(results: pl.DataFrame, decisions: pl.DataFrame | None = None, *,
                      options: FilingOptions | None = None, corrections: pl.DataFrame | None = None,
                      statutory_profile: bool = False) -> Selection:
    """Split screened convictions into granted (Exhibit A), challenged (Exhibit B) and left out.

    Without decisions the engine outcome stands: dismiss / reduce are granted (when the office
    includes undecided proposals), review is left out, and ineligible is challenged only when
    the office chose that (``options.challenge_ineligible``). A conviction's last decision
    replaces its engine outcome (``accept`` keeps it, and makes an ineligible proposal a
    challenge: an attorney agreed it is not eligible). Rows under 18 at the offense (unless
    included deliberately), rows with no court case number and rows whose legal basis is not
    known are left out, each with the reason.
    """
    options = options or FilingOptions(posture="supplemental")
    res = _as_text_frame(results, "results")
    if res["conviction_id"].is_duplicated().any():
        raise InputError("results: conviction_id values are not unique")
    notes: list[str] = []
    has_basis = BASIS_COLUMN in res.columns
    if not has_basis:
        if statutory_profile:
            notes.append("The results file records no legal basis per row (made before this version); the "
                         "statutory profile screened it, so relief rests on HS 11361.8 for every engine proposal.")
        else:
            notes.append("The results file records no legal basis per row (made before this version) and a "
                         "county profile screened it: the basis is not guessed, so engine proposals of relief "
                         "are left out. Screen the records again with this version to file them.")
        res = res.with_columns(pl.lit("").alias(BASIS_COLUMN))
    corr = read_corrections(corrections, res["conviction_id"])
    res, applied = _apply_corrections(res, corr)

    if options.posture == "petition":
        wanted = {c.strip().upper() for c in options.petition_cases if c.strip()}
        res = res.filter(pl.col("court_case_number").str.to_uppercase().is_in(list(wanted)))
        if res.height == 0:
            raise InputError("the petition's court case number(s) match no screened conviction")
    res = res.join(_names(res), on="subject_id", how="left")

    dec_cols = ("conviction_id", "decision", "ground", "reason", "relief", BASIS_COLUMN)
    if decisions is None:
        dec = pl.DataFrame(schema={c: pl.String for c in dec_cols})
    else:
        dec = _read_decisions(decisions)
        unknown = dec.join(_as_text_frame(results, "results").select("conviction_id"), on="conviction_id", how="anti")
        if unknown.height:
            raise InputError(f"decisions: {unknown.height} decision(s) refer to convictions that are "
                             f"not in these results (a different screening run?)")
        bad_ground = dec.filter((pl.col("decision") == "challenge") & ~pl.col("ground").is_in(list(GROUNDS)))
        if bad_ground.height:
            raise InputError(f"decisions: {bad_ground.height} challenge(s) without a valid ground "
                             f"({' or '.join(GROUNDS)})")
    dec = dec.rename({"ground": "d_ground", "reason": "d_reason", "relief": "d_relief", BASIS_COLUMN: "d_basis"})
    df = res.join(dec, on="conviction_id", how="left").with_columns(
        pl.col("decision", "d_ground", "d_reason", "d_relief", "d_basis").fill_null(""))

    engine = (pl.when(pl.col("outcome") == "dismiss").then(pl.lit("dismiss"))
              .when(pl.col("outcome") == "reduce").then(pl.lit("reduce"))
              .when(pl.col("outcome") == "ineligible").then(pl.lit("ineligible"))
              .otherwise(pl.lit("review")))
    by_attorney = ~pl.col("decision").is_in(["", "accept"])
    accepted_ineligible = (pl.col("decision") == "accept") & (pl.col("outcome") == "ineligible")
    df = df.with_columns(
        engine.alias("_engine"),
        pl.when(by_attorney).then(pl.col("decision"))
        .when(accepted_ineligible).then(pl.lit("challenge"))
        .otherwise(engine).alias("_eff"),
        pl.when(by_attorney | accepted_ineligible).then(pl.lit("attorney")).otherwise(pl.lit("engine")).alias("decided_by"),
        (pl.col("decision") != "").alias("reviewed"),
    )
    if options.challenge_ineligible:  # the office's own choice, stated in the papers
        df = df.with_columns(pl.when(pl.col("_eff") == "ineligible").then(pl.lit("challenge"))
                             .otherwise(pl.col("_eff")).alias("_eff"))
    # What a reduction reduces to: an explicit decision relief, else the engine's, else one
    # level down from the conviction level.
    reduce_to = (
        pl.when(pl.col("d_relief").str.starts_with("reduce_to_")).then(pl.col("d_relief"))
        .when(pl.col("relief").str.starts_with("reduce_to_") & (pl.col("decided_by") == "engine")).then(pl.col("relief"))
        .when(pl.col("level") == "F").then(pl.lit("reduce_to_misdemeanor"))
        .when(pl.col("level") == "M").then(pl.lit("reduce_to_infraction"))
        .otherwise(pl.lit(""))
    )
    df = df.with_columns(
        pl.when(pl.col("_eff") == "dismiss").then(pl.lit("dismiss_and_seal"))
        .when(pl.col("_eff") == "reduce").then(reduce_to)
        .otherwise(pl.lit("")).alias("filing_relief"))
    # The legal basis: the decision's own, else the engine's for the relief it proposed; an
    # attorney who grants relief the engine did not propose acts on the office's discretion.
    engine_basis = pl.when(pl.col(BASIS_COLUMN) != "").then(pl.col(BASIS_COLUMN)).when(
        pl.lit(statutory_profile and not has_basis)).then(
        pl.when(pl.col("outcome") == "dismiss").then(pl.lit("statute_dismissal"))
        .when(pl.col("outcome") == "reduce").then(pl.lit("statute_redesignation")).otherwise(pl.lit(""))
    ).otherwise(pl.lit(""))
    same_as_engine = pl.col("_eff") == pl.col("_engine")
    df = df.with_columns(
        pl.when(pl.col("d_basis") != "").then(pl.col("d_basis"))
        .when(same_as_engine).then(engine_basis)
        .when(pl.col("_eff") == "dismiss").then(pl.lit("policy_dismissal"))
        .when(pl.col("_eff") == "reduce").then(pl.lit("policy_redesignation"))
        .otherwise(pl.lit("")).alias("_basis"))
    # A dismissal basis on a reduction (or the reverse) is not what the row gets.
    df = df.with_columns(
        pl.when((pl.col("filing_relief") == "dismiss_and_seal") & pl.col("_basis").str.ends_with("redesignation"))
        .then(pl.lit("policy_dismissal"))
        .when(pl.col("filing_relief").str.starts_with("reduce_to_") & pl.col("_basis").str.ends_with("dismissal"))
        .then(pl.lit("policy_redesignation"))
        .otherwise(pl.col("_basis")).alias("_basis"))

    age = pl.col("age_at_offence").cast(pl.Int64, strict=False)
    juvenile = (age < 18).fill_null(False) & pl.lit(not options.include_juvenile)
    relief_wanted = pl.col("_eff").is_in(["dismiss", "reduce"]) & (pl.col("filing_relief") != "")
    in_play = relief_wanted | (pl.col("_eff") == "challenge")
    undecided = (pl.lit(options.include == "decided") & ~pl.col("reviewed"))
    # A supplemental motion is for convictions DOJ's list missed: after a reconciliation the
    # results say which those are (provenance "county_only"); the others go in the response to
    # DOJ's list.
    if options.posture == "supplemental" and "provenance" in df.columns:
        on_doj_list = pl.col("provenance").fill_null("").is_in(["both", "both_disagreeing", "doj_only"])
    else:
        on_doj_list = pl.lit(False)
    kind = (
        pl.when(~in_play & (pl.col("_eff") == "defer")).then(pl.lit("defer"))
        .when(~in_play & (pl.col("_eff") == "ineligible")).then(
            pl.when(undecided).then(pl.lit("undecided")).otherwise(pl.lit("not_challenged")))
        .when(~in_play & (pl.col("decision") == "accept")).then(pl.lit("unresolved"))
        .when(~in_play & (pl.col("_eff") == "review")).then(pl.lit("review"))
        .when(~in_play).then(pl.lit("unresolved"))
        .when(undecided).then(pl.lit("undecided"))
        .when(on_doj_list).then(pl.lit("on_doj_list"))
        .when(juvenile).then(pl.lit("juvenile"))
        .when(~_has_case_number()).then(pl.lit("no_case_number"))
        .when(relief_wanted & (pl.col("_basis") == "")).then(pl.lit("basis_unknown"))
        .otherwise(pl.lit(""))
    )
    df = df.with_columns(kind.alias("left_out_kind"))
    granted_mask = (pl.col("left_out_kind") == "") & relief_wanted
    challenged_mask = (pl.col("left_out_kind") == "") & (pl.col("_eff") == "challenge")

    petition = pl.col("relief_track") == "petition"
    basis_text = (
        pl.when(pl.col("_basis") == "statute_dismissal")
        .then(pl.when(petition).then(pl.lit("HS 11361.8(b): conduct now lawful"))
              .otherwise(pl.lit("HS 11361.8(f): conduct now lawful")))
        .when(pl.col("_basis") == "statute_redesignation")
        .then(pl.when(petition).then(pl.lit("HS 11361.8(b), (h)")).otherwise(pl.lit("HS 11361.8(f), (h)")))
        .when(pl.col("_basis") == "policy_dismissal").then(pl.lit("PC 1385: office criteria"))
        .otherwise(pl.lit("Office criteria (beyond HS 11361.8)"))
    )
    granted = df.filter(granted_mask).with_columns(
        pl.when(pl.col("_basis") == "policy_dismissal").then(pl.lit("dismiss_policy"))
        .when(pl.col("filing_relief") == "dismiss_and_seal").then(pl.lit("dismiss_statute"))
        .when(pl.col("_basis") == "policy_redesignation").then(pl.lit("redesignate_policy"))
        .when(petition).then(pl.lit("resentence"))
        .when(pl.col("filing_relief") == "reduce_to_infraction").then(pl.lit("redesignate_infraction"))
        .otherwise(pl.lit("redesignate_misdemeanor")).alias("group"),
        pl.col("_basis").alias("relief_basis_filed"),
        pl.concat_str([basis_text, pl.when(pl.col("decided_by") == "attorney").then(pl.lit(" (attorney review)"))
                       .otherwise(pl.lit("")),
                       pl.when((age < 18).fill_null(False)).then(pl.lit("; under 18 at the offense"))
                       .otherwise(pl.lit(""))]).alias("basis"),
        pl.when(pl.col("decided_by") == "attorney")
        .then(pl.concat_str([pl.lit("Attorney review"), pl.when(pl.col("d_reason") != "")
                             .then(pl.lit(": ") + pl.col("d_reason")).otherwise(pl.lit(""))]))
        .otherwise(pl.col("reasons").map_elements(_first_reason, return_dtype=pl.String)).alias("criterion"),
    )
    challenged = df.filter(challenged_mask).with_columns(
        pl.when((pl.col("decided_by") == "attorney") & (pl.col("d_ground") != "")).then(pl.col("d_ground"))
        .otherwise(pl.lit("not_eligible")).alias("ground"),
        pl.when((pl.col("decided_by") == "attorney") & (pl.col("d_reason") != "")).then(pl.col("d_reason"))
        .otherwise(pl.col("reasons").str.replace_all(r"\s*\|\s*", "; ")).alias("ground_reason"),
    )
    left = df.filter(~granted_mask & ~challenged_mask).with_columns(
        pl.when(pl.col("left_out_kind") == "defer")
        .then(pl.concat_str([pl.lit("Deferred by attorney"),
                             pl.when(pl.col("d_reason") != "").then(pl.lit(": ") + pl.col("d_reason")).otherwise(pl.lit(""))]))
        .when(pl.col("left_out_kind") == "review")
        .then(pl.concat_str([pl.lit("In review"),
                             pl.when(pl.col("reasons") != "").then(pl.lit(": ") + pl.col("reasons")).otherwise(pl.lit(""))]))
        .when(pl.col("left_out_kind") == "undecided")
        .then(pl.lit("No attorney has decided this proposal, and the office chose to file only accepted or decided "
                     "convictions"))
        .when(pl.col("left_out_kind") == "not_challenged")
        .then(pl.lit("Ineligible under the office's criteria, but no attorney has challenged it" + (
            "; under HS 11361.9 the Court grants relief on DOJ's list where the People do not challenge"
            if options.posture == "doj_list" else "")))
        .when(pl.col("left_out_kind") == "on_doj_list")
        .then(pl.lit("On the Department of Justice's HS 11361.9 list: it belongs in the response to that list, "
                     "not in a supplemental motion for convictions the list missed"))
        .when(pl.col("left_out_kind") == "juvenile")
        .then(pl.concat_str([pl.lit("Under 18 at the offense (age "), pl.col("age_at_offence"),
                             pl.lit("): a juvenile matter (WIC 602; sealing by form JV-744), kept out of the adult filing")]))
        .when(pl.col("left_out_kind") == "no_case_number")
        .then(pl.lit("No court case number on record: the clerk cannot docket it. Find the number in the court's "
                     "index and record it as a correction, then build again"))
        .when(pl.col("left_out_kind") == "basis_unknown")
        .then(pl.lit("The screening did not record the legal basis of this relief; screen again with this version"))
        .when((pl.col("decision") == "accept") & (pl.col("_eff") == "review"))
        .then(pl.lit("Decision 'accept' on a conviction still in review: decide dismiss, reduce, challenge or defer"))
        .otherwise(pl.lit("Decision 'reduce' but the conviction level is unknown or already an infraction"))
        .alias("left_out_reason"),
        pl.when(pl.col("left_out_kind") == "").then(pl.lit("unresolved")).otherwise(pl.col("left_out_kind"))
        .alias("left_out_kind"),
    )

    keep = [c for c in df.columns if not c.startswith(("d_", "_")) and c not in ("left_out_kind", BASIS_COLUMN)]
    granted = _sort(granted.drop(BASIS_COLUMN).rename({"relief_basis_filed": "relief_basis"}).select(
        keep + ["relief_basis", "group", "basis", "criterion"]))
    challenged = _sort(challenged.select(keep + ["ground", "ground_reason"]))
    left = _sort(left.select(keep + ["left_out_kind", "left_out_reason"]))
    if granted.height + challenged.height + left.height != res.height:  # pragma: no cover - invariant
        raise AssertionError("selection lost rows")
    return Selection(granted, challenged, left, total=res.height, options=options,
                     corrections=applied.join(res.select("conviction_id"), on="conviction_id", how="semi"),
                     notes=tuple(notes))


def _names(res: pl.DataFrame) -> pl.DataFrame:
    """Per subject: the most frequent name (ties: alphabetical) and the others as AKA."""
    counts = (res.group_by("subject_id", "name").agg(pl.len().alias("_n"))
              .sort(["subject_id", "_n", "name"], descending=[False, True, False]))
    return counts.group_by("subject_id", maintain_order=True).agg(
        pl.col("name").first().alias("primary_name"),
        pl.col("name").slice(1).filter(pl.col("name").slice(1) != "").sort().str.join("; ").alias("aka"),
    )


def _sort(frame: pl.DataFrame) -> pl.DataFrame:
    order = ["courthouse", "court_case_number", "primary_name", "subject_id", "conviction_date", "count_key",
             "conviction_id"]
    if "group" in frame.columns:
        rank = {k: i for i, k in enumerate(GROUPS)}
        frame = frame.with_columns(pl.col("group").replace_strict(rank, default=len(rank)).alias("_g"))
        return frame.sort(["_g"] + order).drop("_g")
    return frame.sort(order)


def _check_selection(selection: Selection) -> None:
    if not isinstance(selection, Selection):
        raise TypeError("selection must come from select_for_filing()")
