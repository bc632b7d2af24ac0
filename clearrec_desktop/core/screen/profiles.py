"""Policy profiles: ordered, cited rules kept as data (TOML), and the predicate vocabulary.

A rule is ``when`` (all of these predicates) and optionally ``when_any`` (at least one), an
``outcome`` (dismiss, reduce, review, ineligible, or ``statutory_remedy`` for the remedy table of
HS 11361.8), a plain-language ``reason`` and its ``basis`` (the statute or policy). First match
wins. Predicates are a fixed vocabulary (``PREDICATES`` below, documented in docs/profiles.md)
so a county can write its own profile without Python.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import InputError
from ..safety import local_path, resource_path
from . import code_lists

OUTCOMES = ("dismiss", "reduce", "review", "ineligible", "statutory_remedy")
RELIEFS = ("misdemeanor", "infraction")


@dataclass(frozen=True)
class Predicate:
    name: str
    args: str            # "" none, "int", "date", "sections", "codes", "list"
    text: str            # plain English, "{}" replaced by the argument
    evidence: tuple[str, ...] = ()   # evidence the screening fills for it: rows of other records it used
    uses: str | None = None          # the fact a shared guard may doubt: "age", "sentence", "disqualifier"


# The vocabulary. The screening implements each name (screening.predicate_expr); a test checks
# both sides agree, so adding a name here without an implementation fails the suite.
PREDICATES: dict[str, Predicate] = {p.name: p for p in [
    Predicate("always", "", "in every case"),
    Predicate("date_unknown", "", "the conviction date is missing, partial or impossible"),
    Predicate("convicted_on_or_after", "date", "the conviction was on or after {}"),
    Predicate("convicted_before", "date", "the conviction was before {}"),
    Predicate("qualifier", "", "the charge is an attempt or a conspiracy"),
    Predicate("attempt", "", "the charge is an attempt (PC 664)"),
    Predicate("conspiracy", "", "the charge is a conspiracy (PC 182)"),
    Predicate("felony", "", "the conviction is a felony"),
    Predicate("misdemeanor", "", "the conviction is a misdemeanor"),
    Predicate("infraction", "", "the conviction is an infraction"),
    Predicate("level_unknown", "", "the conviction level is not recorded"),
    Predicate("section", "sections", "the section is {} (any subsection)"),
    Predicate("code_section", "codes", "the code section is exactly {}"),
    Predicate("wrong_code_letter", "", "a cannabis section number is recorded under another code (e.g. 11360 PC)"),
    Predicate("prior_super_strike", "", "the person has a super-strike conviction (PC 667(e)(2)(C)(iv)) before this conviction",
              ("ev_super_strike",), "disqualifier"),
    Predicate("prior_pc290", "", "the person has a PC 290 registrable conviction or a PC 290 registration before this conviction",
              ("ev_pc290_conviction", "ev_pc290_registration"), "disqualifier"),
    Predicate("prior_pc290_conviction", "", "the person has a PC 290 registrable conviction before this conviction",
              ("ev_pc290_conviction",), "disqualifier"),
    Predicate("prior_pc290_registration", "", "the person was registered under PC 290 before this conviction",
              ("ev_pc290_registration",), "disqualifier"),
    Predicate("disqualifier_date_unknown", "", "a super-strike or PC 290 entry on the record has no usable date, so it may be a prior",
              ("ev_disq_unknown",)),
    Predicate("same_section_priors_at_least", "int", "the person has at least {} earlier convictions of the same section",
              ("ev_same_section",)),
    Predicate("convictions_on_record_at_least", "int", "the record holds at least {} convictions (any offense, any county)",
              ("ev_record",)),
    Predicate("no_conviction_within_years", "int", "the person has no conviction of any kind in the {} years before the evaluation date",
              ("ev_recent",)),
    Predicate("conviction_older_than_years", "int", "the conviction is at least {} years before the evaluation date"),
    Predicate("age_now_at_least", "int", "the person is at least {} years old on the evaluation date", (), "age"),
    Predicate("age_at_conviction_under", "int", "the person was under {} at the conviction", (), "age"),
    Predicate("age_at_offence_under", "int", "the person was under {} at the offense (arrest date)", (), "age"),
    Predicate("age_unknown", "", "the age at the offense cannot be worked out (date of birth or dates unknown)"),
    Predicate("only_cannabis_convictions", "", "every conviction on the record is HS 11357-11360", ("ev_only_cannabis",)),
    Predicate("sentence_completed", "", "the sentence for this conviction has been completed", (), "sentence"),
    Predicate("still_serving", "", "the person is still serving the sentence for this conviction", (), "sentence"),
    Predicate("sentence_unknown", "", "the sentence for this conviction is not recorded or not plausible"),
    Predicate("all_sentences_completed", "", "every sentence on the record has been completed", ("ev_all_sentences",), "sentence"),
    Predicate("deceased", "", "the record shows the person is deceased", ("ev_deceased",)),
    Predicate("other_cannabis_in_comment", "", "the comment names a different cannabis section than the charge"),
    Predicate("charge_from_comment", "", "the charge was taken from the comment text"),
    Predicate("possible_duplicate_person", "", "another DOJ subject id has the same name and date of birth", ("ev_duplicate",)),
    Predicate("related_charge", "list", "the charge is on the related-charges list {}"),
    Predicate("cycle_has_cannabis_conviction", "", "the same arrest cycle holds a cannabis conviction", ("ev_cycle_cannabis",)),
]}

# Conditions that read the super-strike / PC 290 lists: a profile using any of them "looks at
# disqualifiers", and the shared guard on undated disqualifiers applies to it.
DISQUALIFIER_CONDITIONS = ("prior_super_strike", "prior_pc290", "prior_pc290_conviction", "prior_pc290_registration",
                           "disqualifier_date_unknown")
LEGAL_BASES = ("statute_dismissal", "statute_redesignation", "policy_dismissal", "policy_redesignation")
# The lists a profile may edit ([lists.NAME] add / remove), besides related-charge lists.
DISQUALIFIER_LISTS = ("super-strikes", "pc290")

_CALL_RE = re.compile(r"^\s*(not\s+)?([a-z0-9_]+)\s*(?:\((.*)\))?\s*$")


@dataclass(frozen=True)
class Condition:
    name: str
    negate: bool = False
    args: tuple = ()

    def describe(self) -> str:
        p = PREDICATES[self.name]
        arg = ", ".join(str(a) for a in self.args)
        text = p.text.replace("{}", arg) if "{}" in p.text else p.text
        return f"NOT ({text})" if self.negate else text


@dataclass(frozen=True)
class Rule:
    id: str
    outcome: str
    reason: str
    basis: str
    when: tuple[Condition, ...] = ()
    when_any: tuple[Condition, ...] = ()
    relief: str | None = None          # for reduce: misdemeanor | infraction (default by level)
    requires_option: str | None = None
    guard: bool = False                # engine-level data-quality guard, applies to every profile
    legal_basis: str | None = None     # LEGAL_BASES; derived from the remedy table when not given

    def uses(self) -> set[str]:
        """The facts (age, sentence, disqualifier) the rule depends on."""
        facts = {PREDICATES[c.name].uses for c in self.when + self.when_any} - {None}
        if self.outcome == "statutory_remedy":
            facts.add("age")            # the remedy table turns on the age at the offense
        return facts

    def describe(self) -> str:
        parts = [c.describe() for c in self.when]
        if self.when_any:
            parts.append("any of: " + "; ".join(c.describe() for c in self.when_any))
        if not parts or [c.name for c in self.when] == ["always"] and not self.when_any:
            head = "Otherwise"
        else:
            head = "If " + " and ".join(parts)
        outcome = {"statutory_remedy": "apply the HS 11361.8 remedy table (dismiss / reduce / ineligible)"}.get(self.outcome, self.outcome)
        if self.outcome == "reduce" and self.relief:
            outcome += f" (to {self.relief})"
        return f"{head}: {outcome}. {self.reason} [{self.basis}]".replace(". . ", ". ").replace(".  [", ". [")


@dataclass(frozen=True)
class DoubtGuard:
    """A shared guard that doubts one fact: rules using the fact go to review, others still apply."""
    id: str
    fact: str
    flag: str
    reason: str
    basis: str

    def describe(self) -> str:
        return f"{self.reason} [{self.basis}]"


@dataclass
class Profile:
    id: str
    title: str
    description: str
    rules: list[Rule]
    source: str
    options: dict = field(default_factory=dict)
    text: str = ""                      # the file as loaded, stored with each run
    list_edits: dict = field(default_factory=dict)   # list name -> (add, remove) code sections

    @property
    def active_rules(self) -> list[Rule]:
        """Guards first, then the profile's rules whose option (if any) is switched on."""
        return GUARDS + self.own_rules

    @property
    def own_rules(self) -> list[Rule]:
        return [r for r in self.rules if not r.requires_option or self.options.get(r.requires_option)]

    def screens_related_charges(self) -> bool:
        return any(c.name == "related_charge" for r in self.active_rules for c in r.when + r.when_any)

    def looks_at_disqualifiers(self) -> bool:
        """Whether any of the profile's own rules reads the super-strike or PC 290 lists."""
        return any(c.name in DISQUALIFIER_CONDITIONS for r in self.own_rules for c in r.when + r.when_any)

    def lists(self) -> dict[str, "code_lists.SectionList"]:
        """The code-section lists this profile screens with, after its own edits: the
        super-strike and PC 290 lists (always; they also drive flags) and its related-charge lists."""
        names = list(DISQUALIFIER_LISTS) + sorted({a for r in self.active_rules for c in r.when + r.when_any
                                                   if c.name == "related_charge" for a in c.args})
        out = {}
        for name in names:
            add, remove = self.list_edits.get(name, ((), ()))
            out[name] = code_lists.load_list(name).edited(add, remove, where=f"{self.source} [lists.{name}]")
        return out

    def explain(self) -> str:
        lines = [f"{self.title}  ({self.id})", self.description.strip(), ""]
        if self.options:
            lines.append("Options: " + ", ".join(f"{k} = {v}" for k, v in self.options.items()))
            lines.append("")
        lines.append("Rules, in order; the first that applies decides:")
        for i, r in enumerate(self.active_rules, 1):
            tag = " (data-quality guard, always applied)" if r.guard else ""
            lines.append(f"{i:>3}. [{r.id}]{tag} {r.describe()}")
        off = [r for r in self.rules if r.requires_option and not self.options.get(r.requires_option)]
        if off:
            lines += ["", "Switched off (enable the option to use):"]
            lines += [f"     [{r.id}] needs option {r.requires_option}: {r.describe()}" for r in off]
        lines += ["", "If no rule applies, the conviction goes to attorney review.", "",
                  "Shared guards (every profile; a doubted fact blocks only the rules that use it):"]
        used = {f for r in self.own_rules for f in r.uses()}
        for g in DOUBT_GUARDS.values():
            if g.fact == "disqualifier":
                applies = "applies: this profile looks at disqualifiers" if self.looks_at_disqualifiers() else \
                    "does not apply: this profile has no disqualifier rule (the entries still appear as flags)"
            else:
                applies = "used by rule(s) " + ", ".join(r.id for r in self.own_rules if g.fact in r.uses()) \
                    if g.fact in used else "no rule of this profile uses it"
            lines.append(f"     [{g.id}] {g.describe()} ({applies})")
        lines += ["", "Code-section lists (one entry per section and subsection, with its citation;"
                      " the app's Policy view shows every entry):"]
        for name, lst in self.lists().items():
            what = LIST_TITLES.get(name, "related charges")
            lines.append(f"     {name}: {what}, {len(lst)} entries; read {lst.path}")
        return "\n".join(lines)


LIST_TITLES = {"super-strikes": "super strikes (PC 667(e)(2)(C)(iv))",
               "pc290": "PC 290(c) registrable offenses and registration offenses"}


# Data-quality guards that hold for every profile: an unknown date never yields relief,
# a cannabis number under another code is a probable data-entry slip, and a comment naming
# another cannabis section must be looked at (doj-extract.md, data-quality table).
GUARDS = [
    Rule("guard-date-unknown", "review",
         "The conviction date is missing, partial or impossible, so relief cannot be established from the record.",
         "HS 11361.8; data quality", when=(Condition("date_unknown"),), guard=True),
    Rule("guard-wrong-code", "review",
         "A cannabis section number is recorded under another code; probably a data-entry slip to check against the court file.",
         "HS 11361.8; data quality", when=(Condition("wrong_code_letter"),), guard=True),
    Rule("guard-comment-charge", "review",
         "The comment names a different cannabis section than the recorded charge; check which charge was convicted.",
         "HS 11361.8; data quality", when=(Condition("other_cannabis_in_comment"),), guard=True),
]

# Guards that doubt one fact (prop64-rules.md, "Guards shared by every profile"). A rule whose
# other conditions hold but which needs the doubted fact sends the conviction to review with the
# guard's reason; rules that do not use the fact still apply, and the flag travels with them.
DOUBT_GUARDS = {g.fact: g for g in [
    DoubtGuard("guard-age-unknown", "age", "dob_after_conviction",
               "The date of birth on the record is after a conviction date, so the person's age is unknown "
               "(the conviction date itself is complete); a rule that depends on age cannot be applied: attorney review.",
               "HS 11361.8; data quality"),
    DoubtGuard("guard-sentence-implausible", "sentence", "sentence_implausible",
               "A recorded sentence is implausible (negative, zero for a term, or longer than 99 years), so when it ends "
               "is unknown; a rule that depends on the sentence cannot be applied: attorney review.",
               "HS 11361.8(a)-(b), (e); data quality"),
    DoubtGuard("guard-disqualifier-undated", "disqualifier", "disqualifier_date_unknown",
               "A super-strike or PC 290 entry on the record has no usable date, so it may be a prior conviction; "
               "a felony the profile would otherwise relieve, or a rule on prior disqualifiers, goes to attorney review.",
               "HS 11358(d)(1), 11359(c)(1), 11360(a)(3)(A); data quality"),
]}


def parse_condition(text: str, where: str) -> Condition:
    m = _CALL_RE.match(text) if isinstance(text, str) else None
    if not m:
        raise InputError(f"{where}: cannot read condition {text!r}")
    negate, name, raw_args = bool(m.group(1)), m.group(2), m.group(3)
    if name not in PREDICATES:
        raise InputError(f"{where}: unknown condition {name!r} (see `clearrec explain-profile --vocabulary`)")
    kind = PREDICATES[name].args
    items = [a.strip().strip("'\"") for a in raw_args.split(",")] if raw_args and raw_args.strip() else []
    if kind == "" and items:
        raise InputError(f"{where}: condition {name!r} takes no argument")
    if kind and not items:
        raise InputError(f"{where}: condition {name!r} needs an argument")
    try:
        if kind == "int":
            args = (int(items[0]),)
        elif kind == "date":
            args = (date.fromisoformat(items[0]),)
        elif kind == "sections":
            args = tuple(str(int(a)) for a in items)
        elif kind == "codes":
            args = tuple(_canonical_code(a) for a in items)
        else:
            args = tuple(items)
    except ValueError:
        raise InputError(f"{where}: bad argument for {name!r}: {raw_args!r}") from None
    return Condition(name, negate, args)


def _canonical_code(text: str) -> str:
    m = re.match(r"^\s*([A-Za-z&]+)\s*(\d+(?:\.\d+)?)\s*((?:\([A-Za-z0-9]+\))*)\s*$", text)
    if not m:
        raise ValueError(text)
    return f"{m.group(1).upper().replace('&', '')} {m.group(2)}{m.group(3).lower()}"


def parse_profile(data: dict, source: str, text: str = "") -> Profile:
    where = source
    for key in ("id", "title", "rules"):
        if key not in data:
            raise InputError(f"{where}: profile has no {key!r}")
    rules = []
    seen = set()
    for i, r in enumerate(data["rules"], 1):
        rw = f"{where}: rule {i}"
        if not isinstance(r, dict):
            raise InputError(f"{rw}: not a table")
        rid = r.get("id") or f"rule-{i}"
        rw = f"{where}: rule {i} ({rid})"
        if rid in seen:
            raise InputError(f"{rw}: duplicate rule id")
        seen.add(rid)
        unknown = set(r) - {"id", "when", "when_any", "outcome", "reason", "basis", "relief", "requires_option", "legal_basis"}
        if unknown:
            raise InputError(f"{rw}: unknown key(s) {', '.join(sorted(unknown))}")
        outcome = r.get("outcome")
        if outcome not in OUTCOMES:
            raise InputError(f"{rw}: outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        if (not r.get("reason") and outcome != "statutory_remedy") or not r.get("basis"):
            raise InputError(f"{rw}: every rule needs a plain 'reason' and a 'basis' (statute or policy)")
        relief = r.get("relief")
        if relief is not None and (outcome != "reduce" or relief not in RELIEFS):
            raise InputError(f"{rw}: 'relief' is for reduce rules and must be misdemeanor or infraction")
        legal_basis = r.get("legal_basis")
        if legal_basis is not None:
            kind = {"dismiss": "dismissal", "reduce": "redesignation"}.get(outcome)
            if legal_basis not in LEGAL_BASES or not kind or not legal_basis.endswith(kind):
                raise InputError(f"{rw}: 'legal_basis' is for dismiss and reduce rules and must be one of "
                                 f"{', '.join(b for b in LEGAL_BASES if kind and b.endswith(kind)) or ', '.join(LEGAL_BASES)}, "
                                 f"not {legal_basis!r}")
        when = r.get("when", [])
        when_any = r.get("when_any", [])
        if isinstance(when, str):
            when = [when]
        if isinstance(when_any, str):
            when_any = [when_any]
        rules.append(Rule(
            id=rid, outcome=outcome, reason=r.get("reason", "").strip(), basis=r["basis"].strip(), relief=relief,
            when=tuple(parse_condition(c, rw) for c in when),
            when_any=tuple(parse_condition(c, rw) for c in when_any),
            requires_option=r.get("requires_option"), legal_basis=legal_basis,
        ))
    options = dict(data.get("options", {}))
    for r in rules:
        if r.requires_option and r.requires_option not in options:
            raise InputError(f"{where}: rule {r.id} requires option {r.requires_option!r}, which [options] does not declare")
    list_edits = _list_edits(data.get("lists", {}), where)
    usable = set(DISQUALIFIER_LISTS) | {a for r in rules for c in r.when + r.when_any if c.name == "related_charge" for a in c.args}
    for name in list_edits:
        if name not in usable:
            raise InputError(f"{where}: [lists.{name}] is not a list this profile uses ({', '.join(sorted(usable))})")
    profile = Profile(id=str(data["id"]), title=str(data["title"]), description=str(data.get("description", "")),
                      rules=rules, source=source, options=options, text=text, list_edits=list_edits)
    profile.lists()   # a bad edit or an unknown list fails here, naming the profile
    return profile


def _list_edits(lists, where: str) -> dict:
    """``[lists.super-strikes] add = ["PC 192(a)"], remove = ["PC 261"]``: edits kept in the
    profile itself, so a run stores them with the profile text."""
    if not isinstance(lists, dict):
        raise InputError(f"{where}: [lists] must be a table of list names")
    out = {}
    for name, edit in lists.items():
        lw = f"{where}: [lists.{name}]"
        if not isinstance(edit, dict) or set(edit) - {"add", "remove"}:
            raise InputError(f"{lw}: give 'add' and/or 'remove', each a list of code sections such as \"PC 653f(b)\"")
        add, remove = edit.get("add", []), edit.get("remove", [])
        if not all(isinstance(x, list) and all(isinstance(v, str) for v in x) for x in (add, remove)):
            raise InputError(f"{lw}: 'add' and 'remove' must be lists of code sections such as \"PC 653f(b)\"")
        out[str(name)] = (tuple(add), tuple(remove))
    return out


def profiles_dir() -> Path:
    return resource_path("profiles")


def list_profiles() -> list[Profile]:
    return [load_profile(p) for p in sorted(profiles_dir().glob("*.toml"))]


DEFAULT_PROFILE = "statutory"


def load_profile(name_or_path: str | Path | None = None, *, options: dict | None = None) -> Profile:
    """A shipped profile by id, a profile TOML file, or a BEAR ``eligibility_options.json``."""
    name = str(name_or_path or DEFAULT_PROFILE)
    shipped = profiles_dir() / f"{name}.toml"
    if shipped.exists() and not Path(name).suffix:
        path = shipped
    elif not Path(name).suffix and not Path(name).exists():
        ids = ", ".join(p.stem for p in sorted(profiles_dir().glob("*.toml")))
        raise InputError(f"{name}: no such profile; the shipped profiles are {ids} (or give a profile file)")
    else:
        path = local_path(name, what="profile")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path.name}: line {e.lineno}: not valid JSON ({e.msg})") from None
        profile = bear_profile(data, path.name)
        profile.text = text
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"{path.name}: does not parse: {e}") from None
        profile = parse_profile(data, path.name, text)
    if options:
        unknown = set(options) - set(profile.options)
        if unknown:
            raise InputError(f"{path.name}: no option(s) {', '.join(sorted(unknown))}; it has {', '.join(profile.options) or 'none'}")
        profile.options.update(options)
    return profile


def _toml_str(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def profile_to_toml(profile: Profile, header: str = "") -> str:
    """Write a profile back as TOML (for saving an edited or imported profile)."""
    out = [f"# {line}" for line in header.splitlines()]
    out += [f"id = {_toml_str(profile.id)}", f"title = {_toml_str(profile.title)}",
            f'description = """\n{profile.description.strip()}\n"""', ""]
    if profile.options:
        out.append("[options]")
        out += [f"{k} = {'true' if v else 'false'}" for k, v in profile.options.items()]
        out.append("")

    def cond(c: Condition) -> str:
        args = ""
        if c.args:
            args = "(" + ", ".join(a.isoformat() if isinstance(a, date) else (f'\\"{a}\\"' if " " in str(a) else str(a)) for a in c.args) + ")"
        return _toml_str(("not " if c.negate else "") + c.name) if not args else '"' + ("not " if c.negate else "") + c.name + args + '"'

    for r in profile.rules:
        out.append("[[rules]]")
        out.append(f"id = {_toml_str(r.id)}")
        if r.when:
            out.append("when = [" + ", ".join(cond(c) for c in r.when) + "]")
        if r.when_any:
            out.append("when_any = [" + ", ".join(cond(c) for c in r.when_any) + "]")
        out.append(f"outcome = {_toml_str(r.outcome)}")
        if r.relief:
            out.append(f"relief = {_toml_str(r.relief)}")
        out.append(f"reason = {_toml_str(r.reason)}")
        out.append(f"basis = {_toml_str(r.basis)}")
        if r.requires_option:
            out.append(f"requires_option = {_toml_str(r.requires_option)}")
        if r.legal_basis:
            out.append(f"legal_basis = {_toml_str(r.legal_basis)}")
        out.append("")
    for name, (add, remove) in profile.list_edits.items():
        out.append(f"[lists.{name}]")
        if add:
            out.append("add = [" + ", ".join(_toml_str(a) for a in add) + "]")
        if remove:
            out.append("remove = [" + ", ".join(_toml_str(a) for a in remove) + "]")
        out.append("")
    return "\n".join(out)


# --- BEAR / gogen eligibility_options.json -------------------------------------------------

_BEAR_BASIS = "BEAR configurable eligibility option"


def bear_profile(options: dict, source: str) -> Profile:
    """Rules reproducing the outcomes of the Code for America BEAR/gogen tool for its options.

    Evaluation order as documented for that tool (prop64-rules.md); unknown keys are ignored.
    """
    if not isinstance(options, dict):
        raise InputError(f"{source}: eligibility options must be a JSON object")
    base = options.get("baselineEligibility", {}) or {}
    extra = options.get("additionalRelief", {}) or {}

    def sections(key):
        vals = base.get(key, []) or []
        bad = [v for v in vals if str(v) not in ("11357", "11358", "11359", "11360")]
        if bad:
            raise InputError(f"{source}: baselineEligibility.{key} holds {bad!r}; only 11357-11360 are allowed")
        return [str(v) for v in vals]

    def number(key, lo, hi):
        v = extra.get(key, 0) or 0
        if not isinstance(v, int) or (v != 0 and not lo <= v <= hi):
            raise InputError(f"{source}: additionalRelief.{key} must be 0 or {lo}-{hi}, not {v!r}")
        return v

    dismiss, reduce = sections("dismiss"), sections("reduce")
    age, years_since = number("subjectAgeThreshold", 40, 65), number("yearsSinceConvictionThreshold", 1, 15)
    crime_free = number("yearsCrimeFreeThreshold", 1, 15)
    R = []

    def add(rid, when, outcome, reason):
        R.append({"id": rid, "when": when, "outcome": outcome, "reason": reason, "basis": _BEAR_BASIS})

    add("bear-not-felony", ["not felony"], "dismiss", "Misdemeanor or Infraction.")
    if dismiss:
        add("bear-dismiss-section", [f"section({', '.join(dismiss)})"], "dismiss", "The section is on the office's dismiss list.")
    if extra.get("subjectUnder21AtConviction"):
        add("bear-under-21", ["age_at_conviction_under(21)"], "dismiss", "The person was under 21 at the conviction.")
    if age:
        add("bear-age", [f"age_now_at_least({age})"], "dismiss", f"The person is {age} or older.")
    if years_since:
        add("bear-years-since", [f"conviction_older_than_years({years_since})"], "dismiss",
            f"The conviction is more than {years_since} years old.")
    if crime_free:
        add("bear-crime-free", [f"no_conviction_within_years({crime_free})"], "dismiss",
            f"No conviction of any kind in the last {crime_free} years.")
    if extra.get("subjectHasOnlyProp64Charges"):
        add("bear-only-prop64", ["only_cannabis_convictions"], "dismiss", "Every conviction on the record is a Prop 64 offense.")
    if extra.get("subjectIsDeceased"):
        add("bear-deceased", ["deceased"], "dismiss", "The person is deceased.")
    if reduce:
        R.append({"id": "bear-reduce-section", "when": [f"section({', '.join(reduce)})"], "outcome": "reduce",
                  "relief": "misdemeanor", "reason": "The section is on the office's reduce list.", "basis": _BEAR_BASIS})
    add("bear-not-listed", ["always"], "ineligible", "The section is on neither the dismiss nor the reduce list.")
    data = {"id": "bear-options", "title": f"BEAR eligibility options ({source})",
            "description": "Imported from a BEAR/gogen eligibility_options.json; the tool had no disqualifier checks, "
                           "so super-strike and PC 290 findings appear only as flags.", "rules": R}
    return parse_profile(data, source)
