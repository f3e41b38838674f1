"""What a reader sees instead of column names and codes: one label map for the report's
table columns, instrument and scale names from the instrument YAML, and one rounding policy.

The CSV files beside the report keep the column names (they are for analysts and other
programs); only the HTML, PDF and Word tables are labelled. Each header keeps its column
name in ``data-col`` so tests and scripts can still find a column.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import pandas as pd

from .release import NOT_APPLICABLE

#: every column the report publishes -> the header a commissioner reads
COLUMN_LABELS: dict[str, str] = {
    # reach and activity
    "received": "Referrals received", "decided": "Decided", "accepted": "Accepted",
    "not_accepted": "Not accepted", "pending": "Not yet decided",
    "inappropriate": "Inappropriate", "acceptance_rate": "Accepted (% of decided)",
    "inappropriate_rate": "Inappropriate (% of decided)", "rate": "Inappropriate (%)",
    "referrals": "Referrals", "children_referred": "Children referred",
    "children_seen_1plus": "Children seen at least once",
    "children_seen_2plus": "Children seen at least twice", "period": "Month",
    "first_contacts": "First contacts", "second_contacts": "Second contacts",
    "discharges": "Discharges", "children_first_seen": "Children first seen",
    "school_id": "School", "site_id": "Site", "age_band": "Age band", "ethnicity": "Ethnicity",
    "fsm": "Free school meals", "gender": "Gender", "lgbt": "LGBT+", "sen": "SEN",
    "source": "Source", "kind": "Kind", "reason": "Reason",
    # waits
    "stage": "Contact", "n_seen": "Seen", "n_waiting": "Still waiting",
    "n_closed_unseen": "Closed without contact", "median_days": "Median wait (days)",
    "q1_days": "Lower quartile (days)", "q3_days": "Upper quartile (days)",
    "p90_days": "90th percentile (days)", "within_standard": "Seen within the standard (%)",
    "standard_days": "Standard (days)", "days": "Days since referral",
    "seen_in_step": "Seen in this step", "share_seen": "Seen by then (%)",
    # outcomes
    "instrument": "Measure", "rater": "Rater", "scale": "Scale", "n": "Number",
    "mean_pre": "Mean before", "mean_post": "Mean after", "mean_diff": "Mean change",
    "sd_diff": "SD of change", "ci_low": "95% CI from", "ci_high": "95% CI to",
    "d_z": "Effect size (d)", "p": "p-value", "p_adj": "p-value (adjusted)",
    "reliable_improvement": "Reliable improvement", "recovered": "Recovered",
    "no_reliable_change": "No reliable change",
    "reliable_deterioration": "Reliable deterioration", "records": "Records",
    "paired": "Paired", "n_referrals": "Referrals", "n_paired": "Paired",
    "n_improvement": "Improved", "n_no_change": "No change", "n_deterioration": "Deteriorated",
    "prop_paired": "Paired (%)", "prop_improvement": "Improved (%)",
    "prop_no_change": "No change (%)", "prop_deterioration": "Deteriorated (%)",
    "group": "Group", "level": "Level", "mean_change": "Mean change",
    # experience and workforce
    "version": "Version", "item": "Item", "label": "Statement", "field_label": "Question",
    "text": "Comment", "certainly_true": "Certainly true",
    "prop_certainly_true": "Certainly true (%)", "cohort": "Cohort", "wave": "Wave",
    "agree": "Agree", "prop_agree": "Agree (%)", "comparison": "Comparison",
    "mean_baseline": "Mean at baseline", "mean_followup": "Mean at follow-up",
    "sd_change": "SD of change", "difference": "Difference", "k": "Items", "alpha": "Alpha",
    "omega": "Omega",
    # school population
    "cases": "Probable difficulties", "icc": "ICC", "deff": "Design effect",
    "prevalence": "Prevalence (%)", "mean": "Mean", "sd": "SD", "estimand": "Estimate of",
    "unit": "Unit", "estimate": "Estimate", "n_baseline": "Pupils at baseline",
    "n_followup": "Pupils at follow-up", "schools": "Schools", "primary": "Primary analysis",
    "responses": "Responses", "phase": "Phase", "survey": "Survey", "waves": "Waves",
    # methods, quality and appendix
    "term": "Term", "ratio": "Ratio", "ratio_ci_low": "Ratio 95% CI from",
    "ratio_ci_high": "Ratio 95% CI to", "variable": "Variable", "test": "Test",
    "effect_name": "Effect measure", "effect": "Effect", "analysis": "Analysis",
    "assumes": "Assumes", "with_baseline": "With a baseline", "completed": "Completed",
    "not_completed": "Not completed", "table": "Table", "rows_read": "Rows read",
    "rows_used": "Rows used", "rows_excluded": "Rows excluded", "rows": "Rows",
    "what": "What", "where": "Where", "action": "What was done", "input": "Input",
    "file": "File", "sha256": "SHA-256", "name": "Name", "respondent": "Respondent",
    "column": "Column", "issue": "Issue", "count": "Count", "invalid_cells": "Invalid cells",
    "cells": "Cells", "children": "Children", "families": "Families", "site": "Site",
    # costs, scorecard and monitoring tables
    "assurance": "Assurance",
    "attribution": "Attribution (share owed to the programme)",
    "base": "Base value",
    "baseline": "Baseline",
    "bcr": "Benefit-cost ratio",
    "benefit": "Benefit",
    "better": "Better when",
    "beyond_limits": "Beyond the limits",
    "category": "Category",
    "children_seen": "Children seen",
    "cost": "Cost (£)",
    "cost_per": "Cost per unit (£)",
    "deadweight": "Deadweight (would have happened anyway)",
    "events": "Events",
    "high": "High value",
    "low": "Low value",
    "lower": "Lower limit",
    "lower_95": "Lower 95% limit",
    "lower_99_8": "Lower 99.8% limit",
    "measure": "Measure",
    "month": "Month",
    "now": "Now",
    "npv": "Net present value (£)",
    "optimism_bias": "Optimism bias",
    "outcome": "Outcome",
    "overall": "Overall",
    "payback_years": "Payback (years)",
    "position": "Position",
    "present_value": "Present value (£)",
    "price_year": "Price year",
    "pupils_on_roll": "Pupils on roll",
    "pv_benefits": "Present value of benefits (£)",
    "pv_costs": "Present value of costs (£)",
    "quantity_total": "Outcomes counted",
    "result_high": "NPV at the high value (£)",
    "result_low": "NPV at the low value (£)",
    "run": "Run on one side",
    "seen_per_100_pupils": "Seen per 100 pupils on roll",
    "special": "Special cause",
    "status": "Status",
    "swing": "Swing (£)",
    "target": "Target",
    "team": "Team",
    "total": "Total",
    "trend": "Trend",
    "two_of_three": "Two of three near a limit",
    "unit_value": "Unit value (£)",
    "units": "Units",
    "upper": "Upper limit",
    "upper_95": "Upper 95% limit",
    "upper_99_8": "Upper 99.8% limit",
    "value": "Value",
    "variation": "Variation",
    "within": "Within the standard",
}  # fmt: skip

#: cells that name a variable or a statistic (the group a row is about, a sensitivity
#: input, an effect measure): shown by that name, like a header
VALUE_LABELS: dict[str, str] = {
    "cohens_d": "Cohen's d", "cramers_v": "Cramér's V", "discount_rate": "Discount rate",
    "total_cost": "Total cost (£)",
}  # fmt: skip
#: the columns whose cells are such names
_NAMING_COLUMNS = frozenset({"group", "input", "effect_name", "variable"})

#: columns that hold a proportion (0-1), shown as a percentage
PERCENT_COLUMNS = frozenset(
    {"acceptance_rate", "inappropriate_rate", "rate", "within_standard", "share_seen",
     "prop_paired", "prop_improvement", "prop_no_change", "prop_deterioration",
     "prop_certainly_true", "prop_agree", "prevalence"}
)  # fmt: skip
#: an interval (ci_low, ci_high) is a percentage when its table's estimate is one of these
_PERCENT_ESTIMATES = ("rate", "prevalence")


def column_label(column: str) -> str:
    """The header a reader sees for a published column (the column name itself when the map
    has no label: a test keeps every column of the demo report in the map).

    Example:
        >>> column_label("children_seen_1plus"), column_label("acceptance_rate")
        ('Children seen at least once', 'Accepted (% of decided)')
    """
    return COLUMN_LABELS.get(str(column), str(column))


def percent_columns(columns: list[str]) -> set[str]:
    """Which of a table's columns are proportions shown as %: the named ones, and a 95% CI
    when the table's estimate is a rate or prevalence.

    Example:
        >>> sorted(percent_columns(["period", "rate", "ci_low", "ci_high"]))
        ['ci_high', 'ci_low', 'rate']
        >>> sorted(percent_columns(["mean_diff", "ci_low", "ci_high"]))
        []
    """
    cols = {str(c) for c in columns}
    out = cols & PERCENT_COLUMNS
    if any(e in cols for e in _PERCENT_ESTIMATES):
        out |= cols & {"ci_low", "ci_high"}
    return out


def format_value(v: object, percent: bool = False) -> str:
    """The one rounding policy of the report's tables and prose.

    Counts: whole numbers with thousands separators. Percentages: whole per cent (with one
    decimal below 1% and above 99%, so that 0.4% is not shown as 0%). Other numbers: two
    decimal places at most (no trailing zeros), three significant figures below 0.01.
    Suppressed and text values are shown as they are; a missing value as the not-applicable
    mark.

    Example:
        >>> format_value(1234), format_value(0.706, percent=True), format_value(0.004, percent=True)
        ('1,234', '71%', '0.4%')
        >>> format_value(2.456), format_value(2.5), format_value(0.00123), format_value("*")
        ('2.46', '2.5', '0.00123', '*')
    """
    if v is None or v is pd.NA or (isinstance(v, float | np.floating) and math.isnan(v)):
        return NOT_APPLICABLE
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, int | np.integer) and not percent:
        return f"{int(v):,}"
    if isinstance(v, int | float | np.integer | np.floating):
        f = float(v)
        if percent:
            pct = 100 * f
            digits = 1 if (0 < abs(pct) < 1 or 99 < abs(pct) < 100) else 0
            return f"{pct:.{digits}f}%"
        if f.is_integer() and abs(f) < 1e15:
            return f"{int(f):,}"
        if abs(f) < 0.01:
            return f"{f:.3g}"
        return f"{f:,.2f}".rstrip("0").rstrip(".")
    return str(v)


@functools.lru_cache(maxsize=64)
def _instrument(inst_id: str):
    from ..instruments.model import load_instrument

    try:
        return load_instrument(inst_id)
    except Exception:  # not an instrument id (a survey, a group name): shown as it is
        return None


def instrument_name(inst_id: str) -> str:
    """An instrument's name from its YAML, up to its first comma or bracket (the rater or
    respondent is a column of its own); an unknown id is shown as it is.

    Example:
        >>> instrument_name("sdq_parent"), instrument_name("not_an_instrument")
        ('Strengths and Difficulties Questionnaire', 'not_an_instrument')
    """
    inst = _instrument(str(inst_id))
    if inst is None:
        return str(inst_id)
    return re.split(r",| \(", inst.name, maxsplit=1)[0].strip()


def version_name(inst_id: str) -> str:
    """The version an instrument is (the part of its name after the first comma), for a
    column of versions of one measure; an unknown id is shown as it is.

    Example:
        >>> version_name("chi_esq_9_11"), version_name("chi_esq_parent"), version_name("x_1")
        ('Child version (9-11)', 'Parent/carer version', 'x_1')
    """
    inst = _instrument(str(inst_id))
    if inst is None:
        return str(inst_id)
    head, _, tail = inst.name.partition(",")
    tail = tail.strip()
    return tail[:1].upper() + tail[1:] if tail else head.strip()


def scale_label(inst_id: str, scale_id: str) -> str:
    """A scale's label from the instrument YAML (e.g. HoNOSCA ``scale_1``); the id when the
    instrument or scale is not known.

    Example:
        >>> scale_label("honosca", "scale_1")
        'Scale 1: disruptive, antisocial or aggressive behaviour'
        >>> scale_label("sdq_parent", "emotional"), scale_label("sdq_parent", "goal_mean")
        ('Emotional problems', 'goal_mean')
    """
    inst = _instrument(str(inst_id))
    if inst is None:
        return str(scale_id)
    for s in inst.scales:
        if s.id == scale_id:
            return s.label
    return str(scale_id)


def scale_phrase(inst_id: str, scale_id: str) -> str:
    """A scale as a sentence names it: its label and the instrument's name, not their ids.

    Example:
        >>> scale_phrase("sdq_parent", "emotional")
        'emotional problems (Strengths and Difficulties Questionnaire)'
    """
    label = scale_label(inst_id, scale_id)
    label = label[:1].lower() + label[1:] if label[1:2].islower() else label
    return f"{label} ({instrument_name(inst_id)})"


def value_label(v: str) -> str:
    """A cell that names a variable, shown like a header; ``thing.column`` (a cost input of
    one benefit) as "thing: label"; anything else as it is.

    Example:
        >>> value_label("cohens_d"), value_label("school_id"), value_label("teacher time.unit_value")
        ("Cohen's d", 'School', 'teacher time: unit value (£)')
    """
    known = VALUE_LABELS.get(v) or COLUMN_LABELS.get(v)
    if known:
        return known
    prefix, _, key = v.rpartition(".")
    label = VALUE_LABELS.get(key) or COLUMN_LABELS.get(key)
    if prefix and label:
        return f"{prefix}: {label[:1].lower()}{label[1:]}"
    return v


def readable_frame(frame: pd.DataFrame) -> tuple[list[str], list[list[str]], list[set[int]]]:
    """A released table as a reader sees it: headers, cells as text, and per row the
    positions of numeric cells (right-aligned). Instrument ids become names and scale ids
    their labels (looked up with the row's instrument).

    Example:
        >>> f = pd.DataFrame({"instrument": ["honosca"], "scale": ["scale_2"], "prop_paired": [0.5]})
        >>> readable_frame(f)[:2]
        (['Measure', 'Scale', 'Paired (%)'], [['Health of the Nation Outcome Scales for Children and Adolescents', 'Scale 2: overactivity, attention or concentration', '50%']])
    """
    cols = [str(c) for c in frame.columns]
    pct = percent_columns(cols)
    heads = [column_label(c) for c in cols]
    rows, numeric = [], []
    for rec in frame.itertuples(index=False):
        values = dict(zip(cols, rec, strict=True))
        cells, nums = [], set()
        for k, (c, v) in enumerate(values.items()):
            if c == "instrument" and isinstance(v, str):
                text = instrument_name(v)
            elif c == "scale" and isinstance(v, str) and "instrument" in values:
                text = scale_label(str(values["instrument"]), v)
            elif c == "version" and isinstance(v, str):
                text = version_name(v)
            elif c in _NAMING_COLUMNS and isinstance(v, str):
                text = value_label(v)
            else:
                text = format_value(v, percent=c in pct)
            if isinstance(v, int | float | np.number) and not isinstance(v, bool) or text == "*":
                nums.add(k)
            cells.append(text)
        rows.append(cells)
        numeric.append(nums)
    return heads, rows, numeric
