"""The data dictionary of a simulated programme: every column, its type, meaning and allowed
values, as a Frictionless Data Package (``datapackage.json``) and as a README table.

Item columns are described from the instrument YAML files (short labels and response codes,
never item wording), so the dictionary cannot drift from the scoring engine.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..instruments import load_instrument
from .population import ETHNICITIES, GENDERS, SEN_LEVELS
from .school_survey import IMPACT_ITEMS, SDQ_ITEMS, SWEMWBS_COLUMNS
from .service import NEEDS, NOT_ACCEPTED_REASONS, SOURCES
from .staff import ROLES

TABLE_TITLES = {
    "schools": "Schools in the programme (and comparison schools outside it)",
    "referrals": "Referrals to the Mental Health Support Teams",
    "school_survey": "School population survey: one row per pupil per wave",
    "staff_survey": "Staff workforce-confidence survey (WCS-10): one row per respondent per wave",
    "primary_survey": "Primary survey, Stirling Children's Wellbeing Scale (Years 4-6): one row "
    "per pupil per wave",
}
PRIMARY_KEYS = {
    "schools": ["school_id"],
    "referrals": ["referral_id"],
    "school_survey": ["pupil_id", "wave"],
    "staff_survey": ["respondent_id", "wave"],
    "primary_survey": ["pupil_id", "wave"],
}

_COMMON: dict[str, tuple[str, dict]] = {
    "school_id": ("Synthetic school identifier (SCHnn).", {}),
    "person_id": ("Synthetic child identifier (Pnnnnnn); the same child as pupil_id.", {}),
    "pupil_id": ("Synthetic pupil identifier (Pnnnnnn); persists across waves.", {}),
    "respondent_id": ("Synthetic staff identifier (STnnnnn); persists across waves.", {}),
    "referral_id": ("Synthetic referral identifier (Rnnnnn), numbered in date order.", {}),
    "phase": ("School phase.", {"enum": ["primary", "secondary"]}),
    "in_programme": ("True for programme schools, False for comparison schools.", {}),
    "team": ("Mental Health Support Team serving the school (blank outside the programme).", {}),
    "n_pupils": ("Pupils on roll at the start of the programme.", {"minimum": 0}),
    "n_staff": ("Staff in post (teaching and support).", {"minimum": 0}),
    "pct_fsm": (
        "Percentage of pupils eligible for free school meals.",
        {"minimum": 0, "maximum": 100},
    ),
    "referral_date": ("Date the referral was received.", {}),
    "source": ("Who made the referral.", {"enum": list(SOURCES)}),
    "presenting_need": ("Main need recorded at referral.", {"enum": list(NEEDS)}),
    "accepted": ("Whether the team accepted the referral.", {}),
    "not_accepted_reason": (
        "Why a referral was not accepted (blank when accepted). The first three are the "
        "'inappropriate referral' reasons.",
        {"enum": list(NOT_ACCEPTED_REASONS)},
    ),
    "inappropriate": ("True when not accepted for an inappropriate-referral reason.", {}),
    "first_contact_date": (
        "Date of the first contact (assessment); blank if not accepted or still waiting at the "
        "data extract (a censored wait).",
        {},
    ),
    "second_contact_date": ("Date of the second contact; blank if none by the extract.", {}),
    "discharge_date": (
        "Date of discharge; blank if not accepted or still open at the extract.",
        {},
    ),
    "n_contacts": ("Contacts attended up to the data extract.", {"minimum": 0}),
    "age": ("Age in whole years at the referral or survey date.", {"minimum": 3, "maximum": 18}),
    "year_group": (
        "School year group at the time (0 = Reception, 1-6 primary, 7-11 secondary).",
        {"minimum": 0, "maximum": 11},
    ),
    "gender": (
        "Gender as recorded (primary school records hold female/male only).",
        {"enum": list(GENDERS)},
    ),
    "ethnicity": ("Broad ethnic group.", {"enum": list(ETHNICITIES)}),
    "fsm": ("Eligible for free school meals.", {}),
    "sen": ("Special educational needs provision.", {"enum": list(SEN_LEVELS)}),
    "lgbt": ("Identifies as LGBT+ (asked from age 11; blank when under 11 or not answered).", {}),
    "wave": ("Survey wave or measurement occasion.", {}),
    "date": ("Date the questionnaire was completed.", {}),
    "role": ("Staff role.", {"enum": list(ROLES)}),
    "instrument": ("Instrument id (instruments/<id>.yaml).", {}),
    "rater": ("Who completed the measure.", {"enum": ["self", "parent", "clinician", "staff"]}),
    "comments": ("Free-text comment (synthetic phrases).", {}),
}
_WAVES = {
    "school_survey": ["baseline", "12m", "24m", "36m"],
    "staff_survey": ["baseline", "12m", "24m", "36m"],
    "primary_survey": ["baseline", "12m", "24m", "36m"],
    "responses": ["assessment", "review", "discharge"],
}


def _version() -> str:
    from .._version import __version__

    return __version__


def _frictionless_type(s: pd.Series) -> str:
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_integer_dtype(dt):
        return "integer"
    if pd.api.types.is_float_dtype(dt):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "date"
    return "string"


def _item_field(inst_id: str, item_id: str, column: str) -> tuple[str, dict]:
    inst = load_instrument(inst_id)
    item = next(i for i in inst.items if i.id == item_id)
    if item.type == "text":
        return f"{inst.name}: {item.label} (free text, synthetic).", {}
    rs = inst.response_sets[item.response_set]
    codes = "; ".join(f"{o.code:g} = {o.label}" for o in rs.options)
    miss = "; ".join(f"{o.code:g} = {o.label} (not scored)" for o in rs.missing)
    rev = " Reverse-keyed when scored." if item.reverse else ""
    where = "" if column == item_id else f" Score with columns={{'{column}': '{item_id}'}}."
    text = (
        f"{inst.name}, item {item_id} ({item.label}). Codes: {codes}"
        + (f"; {miss}" if miss else "")
        + f"; blank = no answer.{rev}{where}"
    )
    enum = [o.code for o in rs.options] + [o.code for o in rs.missing]
    return text, {"enum": [int(c) if float(c).is_integer() else c for c in enum]}


def table_fields(name: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Frictionless field descriptors for one table."""
    if name.startswith("responses_"):
        inst_id = name.removeprefix("responses_")
        inst = load_instrument(inst_id)
        item_ids = {i.id for i in inst.items}
    else:
        inst_id, item_ids = None, set()
    fields = []
    for col in frame.columns:
        if col in item_ids:
            desc, cons = _item_field(inst_id, col, col)
        elif name == "school_survey" and col in SDQ_ITEMS + IMPACT_ITEMS:
            desc, cons = _item_field("sdq_self", col, col)
        elif name == "school_survey" and col in SWEMWBS_COLUMNS:
            desc, cons = _item_field("swemwbs", SWEMWBS_COLUMNS[col], col)
        elif name == "primary_survey" and col.startswith("q"):
            desc, cons = _item_field("scwbs", col, col)
        elif name == "staff_survey" and col not in _COMMON:
            desc, cons = _item_field("workforce_confidence", col, col)
        elif col in _COMMON:
            desc, cons = _COMMON[col]
            cons = dict(cons)
            if col == "wave":
                cons["enum"] = _WAVES["responses" if inst_id else name]
            if col == "instrument" and inst_id:
                cons["enum"] = [inst_id]
        else:
            desc, cons = "", {}
        f: dict[str, Any] = {
            "name": col,
            "type": _frictionless_type(frame[col]),
            "description": desc,
        }
        if not frame[col].isna().any() and len(frame):
            cons["required"] = True
        if f["type"] == "date":
            f["format"] = "%Y-%m-%d"
        if cons:
            f["constraints"] = cons
        fields.append(f)
    return fields


def datapackage(
    tables: dict[str, pd.DataFrame], *, settings: dict, seed: int, command: str
) -> dict:
    resources = []
    for name, frame in tables.items():
        schema: dict[str, Any] = {"fields": table_fields(name, frame), "missingValues": [""]}
        if name in PRIMARY_KEYS:
            schema["primaryKey"] = PRIMARY_KEYS[name]
        if name == "referrals" or name.startswith("responses_") or name.endswith("_survey"):
            schema["foreignKeys"] = [
                {"fields": "school_id", "reference": {"resource": "schools", "fields": "school_id"}}
            ]
        if name.startswith("responses_"):
            schema["foreignKeys"].append(
                {
                    "fields": "referral_id",
                    "reference": {"resource": "referrals", "fields": "referral_id"},
                }
            )
        inst_title = ""
        if name.startswith("responses_"):
            inst = load_instrument(name.removeprefix("responses_"))
            inst_title = f"Responses: {inst.name} (one row per administration)"
        resources.append(
            {
                "name": name,
                "path": f"{name}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "title": TABLE_TITLES.get(name, inst_title),
                "schema": schema,
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": "outcomes-synthetic-programme",
        "title": "Synthetic children's mental health programme (outcomes.synthetic)",
        "description": (
            "Entirely synthetic data from outcomes.synthetic.simulate_programme: no real "
            "person, school or service. The ground truth is in truth.json."
        ),
        "x_outcomes": {
            "generator": f"outcomes {_version()}",
            "seed": seed,
            "command": command,
            "settings": settings,
        },
        "resources": resources,
    }


def readme(package: dict, tables: dict[str, pd.DataFrame], truth_summary: str) -> str:
    """A Markdown rendering of the data package: one table per file."""
    cmd = package["x_outcomes"]["command"]
    out = [
        f"# {package['title']}",
        "",
        package["description"],
        "",
        f"Regenerate with:\n\n```\n{cmd}\n```",
        "",
        "## Ground truth",
        "",
        truth_summary,
        "",
        "The full ground truth (true mean changes, reliable-improvement rates, ICCs, staff "
        "confidence change, the dropout mechanism) is in `truth.json`; see docs/synthetic.md "
        "for definitions.",
        "",
        "## Files",
        "",
        "| file | rows | contents |",
        "|---|---:|---|",
    ]
    for r in package["resources"]:
        out.append(f"| `{r['path']}` | {len(tables[r['name']]):,} | {r['title']} |")
    for r in package["resources"]:
        out += ["", f"## {r['path']}", "", r["title"], ""]
        if "primaryKey" in r["schema"]:
            out.append(f"Key: {', '.join(r['schema']['primaryKey'])}.\n")
        out += ["| column | type | meaning | allowed values |", "|---|---|---|---|"]
        for f in r["schema"]["fields"]:
            cons = f.get("constraints", {})
            allowed = []
            if "enum" in cons:
                allowed.append(", ".join(str(v) for v in cons["enum"]))
            lo, hi = cons.get("minimum"), cons.get("maximum")
            if lo is not None and hi is not None:
                allowed.append(f"{lo} to {hi}")
            elif lo is not None:
                allowed.append(f"{lo} or more")
            elif hi is not None:
                allowed.append(f"up to {hi}")
            if cons.get("required"):
                allowed.append("never blank")
            desc = f["description"].replace("|", "/")
            out.append(
                f"| `{f['name']}` | {f['type']} | {desc} | {'; '.join(allowed).replace('|', '/')} |"
            )
    return "\n".join(out) + "\n"
