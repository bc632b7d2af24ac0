"""What goes into a filing: the office's details and the selection of convictions (granted,
challenged, left out) from the results and the attorneys' decisions."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
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
DECISIONS = ("accept", "dismiss", "reduce", "challenge", "defer")
GROUNDS = {
    "not_eligible": "Not eligible (HS 11361.8)",
    "public_safety": "Risk to public safety (HS 11361.9)",
}
# Exhibit A parts, in filing order: key -> (part label, relief column text).
GROUP_COUNTS = {"dismiss_and_seal": "to dismiss and seal", "redesignate_misdemeanor": "to redesignate as misdemeanors",
                "redesignate_infraction": "to redesignate as infractions", "resentence": "to resentence"}
GROUPS = {
    "dismiss_and_seal": ("Dismiss and seal (HS 11361.8(f))", "Dismiss and seal"),
    "redesignate_misdemeanor": ("Redesignate as misdemeanor (HS 11361.8(f))", "Redesignate: misdemeanor"),
    "redesignate_infraction": ("Redesignate as infraction (HS 11361.8(f))", "Redesignate: infraction"),
    "resentence": ("Recall and resentence (HS 11361.8(b))", "Resentence"),
}
OFFICE_KEYS = ("district_attorney", "state_bar_number", "office", "address", "phone", "email",
               "court", "county")
OFFICE_OPTIONAL = ("public_defender", "attorney_for", "deputy")

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
    deputy: str | None = None  # the responsible deputy DA who signs the declaration

    def __post_init__(self) -> None:
        if not self.public_defender:
            self.public_defender = f"Public Defender of {_county_name(self.county)} County"

    @property
    def signer(self) -> str:
        return self.deputy or self.district_attorney

    @property
    def signer_role(self) -> str:
        return "Deputy District Attorney" if self.deputy else "District Attorney"

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]


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
    values: dict[str, str] = {}
    for key in OFFICE_KEYS + OFFICE_OPTIONAL:
        value = data.get(key)
        if value is None:
            if key in OFFICE_KEYS:
                raise InputError(f"{path.name}: office file is missing the key '{key}'")
            continue
        if isinstance(value, list) and key == "address":
            value = "\n".join(str(v) for v in value)
        if isinstance(value, int) and key == "state_bar_number":
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{path.name}: office key '{key}' must be non-empty text")
        values[key] = value.strip()
    return Office(**values)


def _county_name(county: str) -> str:
    text = " ".join(county.split())
    if text.upper().endswith(" COUNTY"):
        text = text[: -len(" COUNTY")]
    return text.title()


# --------------------------------------------------------------------------- selection


@dataclass
class Selection:
    """What goes to the court. Every results row is in exactly one of the three frames.

    Added columns: ``primary_name`` and ``aka`` (other names of the same subject_id),
    ``decided_by`` (engine / attorney), ``decision``; granted rows have ``group`` (a GROUPS
    key), ``filing_relief`` and ``basis``; challenged rows ``ground`` and ``ground_reason``;
    left-out rows ``left_out_kind`` (review / defer / unresolved) and ``left_out_reason``.
    """

    granted: pl.DataFrame
    challenged: pl.DataFrame
    left_out: pl.DataFrame
    total: int = 0

    @property
    def courthouses(self) -> list[str]:
        names = set(self.granted["courthouse"].to_list()) | set(self.challenged["courthouse"].to_list())
        return sorted(names)

    def for_courthouse(self, courthouse: str) -> "Selection":
        def pick(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.filter(pl.col("courthouse") == courthouse)
        return Selection(pick(self.granted), pick(self.challenged), pick(self.left_out),
                         total=self.total)


def _as_text_frame(results: pl.DataFrame, what: str) -> pl.DataFrame:
    missing = [c for c in RESULTS_COLUMNS if c not in results.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}")
    # Only the contract's columns travel on: nothing else (an SSN, say) can reach a document.
    return results.select(
        [pl.col(c).cast(pl.String).fill_null("").str.strip_chars().alias(c) for c in RESULTS_COLUMNS]
    )


def _read_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    if "conviction_id" not in decisions.columns or "decision" not in decisions.columns:
        raise InputError("decisions: need the columns conviction_id and decision")
    cols = [pl.col(c).cast(pl.String).fill_null("").str.strip_chars() for c in ("conviction_id", "decision")]
    for optional in ("ground", "reason", "relief"):
        if optional in decisions.columns:
            cols.append(pl.col(optional).cast(pl.String).fill_null("").str.strip_chars())
        else:
            cols.append(pl.lit("").alias(optional))
    frame = decisions.select(cols).with_columns(pl.col("decision").str.to_lowercase(),
                                                pl.col("ground").str.to_lowercase())
    bad = sorted(set(frame["decision"].to_list()) - set(DECISIONS))
    if bad:
        raise InputError(f"decisions: unknown decision value(s) {', '.join(map(repr, bad))}; "
                         f"use {', '.join(DECISIONS)}")
    # The workspace appends decisions; the last one for a conviction is the one in force.
    return frame.unique(subset="conviction_id", keep="last", maintain_order=True)


def select_for_filing(results: pl.DataFrame, decisions: pl.DataFrame | None = None) -> Selection:
    """Split screened convictions into granted (Exhibit A), challenged (Exhibit B) and left out.

    Without decisions the engine outcome is the decision: dismiss / reduce are granted,
    ineligible is challenged on the ground ``not_eligible``, review is left out. With a
    decisions frame, a conviction's last decision replaces its engine outcome (``accept``
    keeps the engine outcome); convictions without a decision keep the engine outcome.
    """
    res = _as_text_frame(results, "results")
    if res["conviction_id"].is_duplicated().any():
        raise InputError("results: conviction_id values are not unique")
    res = res.join(_names(res), on="subject_id", how="left")

    if decisions is None:
        dec = pl.DataFrame({c: [] for c in ("conviction_id", "decision", "ground", "reason", "relief")},
                           schema={c: pl.String for c in ("conviction_id", "decision", "ground", "reason", "relief")})
    else:
        dec = _read_decisions(decisions)
        unknown = dec.join(res.select("conviction_id"), on="conviction_id", how="anti")
        if unknown.height:
            raise InputError(f"decisions: {unknown.height} decision(s) refer to convictions that are "
                             f"not in these results (a different screening run?)")
        bad_ground = dec.filter((pl.col("decision") == "challenge") & ~pl.col("ground").is_in(list(GROUNDS)))
        if bad_ground.height:
            raise InputError(f"decisions: {bad_ground.height} challenge(s) without a valid ground "
                             f"({' or '.join(GROUNDS)})")
    dec = dec.rename({"ground": "d_ground", "reason": "d_reason", "relief": "d_relief"})
    df = res.join(dec, on="conviction_id", how="left").with_columns(
        pl.col("decision", "d_ground", "d_reason", "d_relief").fill_null(""))

    engine = (pl.when(pl.col("outcome") == "dismiss").then(pl.lit("dismiss"))
              .when(pl.col("outcome") == "reduce").then(pl.lit("reduce"))
              .when(pl.col("outcome") == "ineligible").then(pl.lit("challenge"))
              .otherwise(pl.lit("review")))
    by_attorney = ~pl.col("decision").is_in(["", "accept"])
    df = df.with_columns(
        engine.alias("_engine"),
        pl.when(by_attorney).then(pl.col("decision")).otherwise(engine).alias("_eff"),
        pl.when(by_attorney).then(pl.lit("attorney")).otherwise(pl.lit("engine")).alias("decided_by"),
    )
    # What a reduction reduces to: an explicit decision relief, else the engine's, else one
    # level down from the conviction level.
    reduce_to = (
        pl.when(pl.col("d_relief").str.starts_with("reduce_to_")).then(pl.col("d_relief"))
        .when(pl.col("relief").str.starts_with("reduce_to_")).then(pl.col("relief"))
        .when(pl.col("level") == "F").then(pl.lit("reduce_to_misdemeanor"))
        .when(pl.col("level") == "M").then(pl.lit("reduce_to_infraction"))
        .otherwise(pl.lit(""))
    )
    df = df.with_columns(
        pl.when(pl.col("_eff") == "dismiss").then(pl.lit("dismiss_and_seal"))
        .when(pl.col("_eff") == "reduce").then(reduce_to)
        .otherwise(pl.lit("")).alias("filing_relief"))
    granted_mask = pl.col("_eff").is_in(["dismiss", "reduce"]) & (pl.col("filing_relief") != "")
    challenged_mask = pl.col("_eff") == "challenge"

    granted = df.filter(granted_mask).with_columns(
        pl.when(pl.col("filing_relief") == "dismiss_and_seal").then(pl.lit("dismiss_and_seal"))
        .when(pl.col("relief_track") == "petition").then(pl.lit("resentence"))
        .when(pl.col("filing_relief") == "reduce_to_infraction").then(pl.lit("redesignate_infraction"))
        .otherwise(pl.lit("redesignate_misdemeanor")).alias("group"),
        # An attorney who overrode the engine is the basis; one who agreed keeps its citations.
        pl.when(pl.col("_eff") != pl.col("_engine"))
        .then(pl.lit("HS 11361.8 (attorney review)"))
        .otherwise(pl.col("citations").str.replace_all(r"\s*\|\s*", "; "))
        .alias("basis"),
    )
    challenged = df.filter(challenged_mask).with_columns(
        pl.when(pl.col("decided_by") == "attorney").then(pl.col("d_ground"))
        .otherwise(pl.lit("not_eligible")).alias("ground"),
        pl.when((pl.col("decided_by") == "attorney") & (pl.col("d_reason") != "")).then(pl.col("d_reason"))
        .otherwise(pl.col("reasons").str.replace_all(r"\s*\|\s*", "; ")).alias("ground_reason"),
    )
    left = df.filter(~granted_mask & ~challenged_mask)
    left = left.with_columns(
        pl.when(pl.col("_eff") == "defer").then(pl.lit("defer"))
        .when(pl.col("decision") == "accept").then(pl.lit("unresolved"))
        .when(pl.col("_eff") == "review").then(pl.lit("review"))
        .otherwise(pl.lit("unresolved")).alias("left_out_kind"),
    ).with_columns(
        pl.when(pl.col("left_out_kind") == "defer")
        .then(pl.concat_str([pl.lit("Deferred by attorney"),
                             pl.when(pl.col("d_reason") != "").then(pl.lit(": ") + pl.col("d_reason")).otherwise(pl.lit(""))]))
        .when(pl.col("left_out_kind") == "review")
        .then(pl.concat_str([pl.lit("In review"),
                             pl.when(pl.col("reasons") != "").then(pl.lit(": ") + pl.col("reasons")).otherwise(pl.lit(""))]))
        .when(pl.col("decision") == "accept")
        .then(pl.lit("Decision 'accept' on a conviction still in review: decide dismiss, reduce, challenge or defer"))
        .otherwise(pl.lit("Decision 'reduce' but the conviction level is unknown or already an infraction"))
        .alias("left_out_reason"))

    keep = [c for c in df.columns if not c.startswith(("d_", "_"))]
    granted = _sort(granted.select(keep + ["group", "basis"]))
    challenged = _sort(challenged.select(keep + ["ground", "ground_reason"]))
    left = _sort(left.select(keep + ["left_out_kind", "left_out_reason"]))
    if granted.height + challenged.height + left.height != res.height:  # pragma: no cover - invariant
        raise AssertionError("selection lost rows")
    return Selection(granted, challenged, left, total=res.height)


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
