"""Markdown descriptions of instruments, generated from their YAML definitions.

Used by the documentation site (the instrument catalogue) and the report appendix, so the
published description of a scoring rule can never drift from the rule that is applied.
"""

from __future__ import annotations

from .model import Instrument, Scale, list_instruments, load_instrument

#: Measures that programmes use but that cannot be scored yet, and what is missing. Listed on
#: the catalogue page so that their absence is visible, not silent (specs/measures.md, s. 4).
DEFERRED: dict[str, str] = {
    "Students' Life Satisfaction Scale (slss)": (
        "7 items; which response format the Wellbeing Measurement Framework primary booklet "
        "uses (Huebner 1991 used a 4-point frequency format, a later version a 6-point "
        "agreement scale), whether the score is a sum or a mean, and whether items 3 and 4 are "
        "reversed are not confirmed. No MHSDS code."
    ),
    "Student Resilience Survey (student_resilience_survey)": (
        "47 items rated 1-5 and 12 subscales (CORC; 10 validated, Lereya et al. 2016), but the "
        "item numbers of each subscale are not known here. No MHSDS code."
    ),
    "YP-CORE item scoring (yp_core)": (
        "which two items are positively worded (reverse-keyed) is not confirmed; until then "
        "yp_core reads clinical scores only (input='scales')."
    ),
    "SCORE-15, BPSES, Me and My Feelings, Me and My School item scoring": (
        "item keys, response labels and subscale membership are not public here; each is "
        "defined at score level (input='scales') so MHSDS scores can be read and used."
    ),
    "SCWBS subscales (positive emotional state, positive outlook)": (
        "membership of the two 6-item subscales is not confirmed."
    ),
    "RCADS total-score T-scores and RCADS-25 T-scores": (
        "UCLA's total-score and short-form norm tables were not readable here."
    ),
    "PHQ-A": "score with phq_9 until its wording, order and scoring are confirmed.",
    "CSRS, GSRS, CGSRS, YCORS, SFQ": "in MHSDS but not specified here.",
}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _num(x: float) -> str:
    return f"{x:g}"


def instrument_markdown(instrument: str | Instrument, *, heading_level: int = 2) -> str:
    """One instrument as Markdown: licence, items (ids and short labels), response codes,
    scales with their rules, bands, thresholds and sources.

    Example:
        >>> md = instrument_markdown("swemwbs")
        >>> "`metric`" in md and "≥ 3" in md
        True
    """
    inst = load_instrument(instrument)
    h = "#" * heading_level
    out = [f"{h} {inst.name} (`{inst.id}`)", ""]
    out.append(
        f"Version {inst.version}; respondent: {inst.respondent}"
        + (f"; ages {_num(inst.age_range[0])}-{_num(inst.age_range[1])}" if inst.age_range else "")
        + "."
    )
    out += ["", f"**Citation.** {inst.citation}", "", f"**Licence.** {inst.licence.text}", ""]
    out += [f"{h}# Items", "", "| id | label | response set | scoring |", "|---|---|---|---|"]
    for it in inst.items:
        how = "free text" if it.type == "text" else ("reverse-keyed" if it.reverse else "")
        if it.recode:
            how = "recoded " + ", ".join(f"{k}→{v}" for k, v in it.recode.items())
        if not it.required:
            how = (how + "; optional" if how else "optional") + (
                f" ({it.section})" if it.section else ""
            )
        label = it.text if (it.text and inst.licence.embed_wording) else it.label
        out.append(f"| `{it.id}` | {_cell(label)} | {it.response_set or '-'} | {_cell(how)} |")
    out += ["", f"{h}# Response codes", ""]
    for name, rs in inst.response_sets.items():
        codes = (
            f"continuous, {_num(rs.continuous.min)} to {_num(rs.continuous.max)} in steps of "
            f"{_num(rs.continuous.step)}"
            if rs.is_continuous
            else "; ".join(f"{o.code} = {_cell(o.label)}" for o in rs.options)
        )
        line = f"- **{name}**: {codes}"
        if rs.missing:
            line += "; no answer: " + "; ".join(f"{o.code} = {_cell(o.label)}" for o in rs.missing)
        out.append(line)
        for alt, a in rs.alternative_codings.items():
            mapping = ", ".join(f"{k}→{v}" for k, v in a.map.items())
            out.append(f"    - coding `{alt}` ({_cell(a.description)}): {mapping}")
    out += [
        "",
        f"{h}# Scales",
        "",
        "| scale | rule | range | direction | reliable change | clinical cut-off |",
        "|---|---|---|---|---|---|",
    ]
    for sc in inst.scales:
        lo, hi = inst.scale_range(sc.id)
        parts = ", ".join(f"`{p}`" for p in sc.parts)
        rule = f"{sc.method} of {parts}"
        if sc.method in ("sum", "mean") and len(sc.items) > 1:
            rule += f"; needs {sc.required_answered} of {len(sc.items)} answered"
        if sc.prorate:
            rule += "; prorated"
        if sc.rounding.rule != "none":
            rule += f"; rounded {sc.rounding.rule.replace('_', ' ')}"
        for fv in sc.fixed_values:
            rule += f"; = {_num(fv.value)} when `{fv.when.item}` is {list(fv.when.codes)}"
        rc = sc.reliable_change
        rc_text = "-"
        if rc and rc.threshold is not None:
            rc_text = f"≥ {_num(rc.threshold)}"
        elif rc:
            rc_text = f"Jacobson-Truax (r = {rc.reliability}, SD = {rc.sd})"
        if sc.method == "norm":
            rule = (
                f"{sc.centre:g} + {sc.spread:g} x (`{sc.source_scale}` - mean) / SD, mean and SD "
                f"from the norm row matching {', '.join(f'`{k}`' for k in sc.keys)} (table below)"
            )
        elif sc.method == "given":
            step = inst.scale_step(sc.id)
            rule = "supplied as a score (input='scales')" + (
                f"; in steps of {_num(step)}" if step else "; any value in range"
            )
        if sc.snomed:
            rule += "; SNOMED CT " + ", ".join(sc.snomed)
        cut = f"{_num(sc.clinical_cutoff.value)}" if sc.clinical_cutoff else "-"
        out.append(
            f"| `{sc.id}` {_cell(sc.label)} | {_cell(rule)} | {_num(lo)}-{_num(hi)} | "
            f"{'higher' if sc.higher_is_better else 'lower'} is better | {rc_text} | {cut} |"
        )
    banded = [sc for sc in inst.scales if sc.bands]
    if banded:
        out += ["", f"{h}# Bands", ""]
        for sc in banded:
            for col, scheme in zip(sc.band_columns(), sc.bands, strict=True):
                levels = "; ".join(
                    f"{_cell(b.label)} {_num(b.min)}-{_num(b.max)}" for b in scheme.levels
                )
                out.append(f"- `{col}` ({_cell(scheme.label or scheme.id)}): {levels}")
    normed = [sc for sc in inst.scales if sc.method == "norm"]
    if normed:
        out += ["", f"{h}# Norm tables", ""]
        for sc in normed:
            out += _norm_table(sc)
    suppliable = [sc.id for sc in inst.suppliable_scales()]
    if suppliable:
        out += [
            "",
            "Scores supplied without items (`input='scales'`): "
            + ", ".join(f"`{s}`" for s in suppliable)
            + ".",
        ]
    if inst.sources:
        out += ["", f"{h}# Sources", ""]
        out += [f"- **{k}**: {_cell(v)}" for k, v in inst.sources.items()]
    if inst.notes:
        out += ["", f"{h}# Notes", ""]
        out += [f"- {_cell(n)}" for n in inst.notes]
    return "\n".join(out) + "\n"


def _norm_table(sc: Scale) -> list[str]:
    keys = list(sc.keys)
    out = [
        f"`{sc.id}`:",
        "",
        "| " + " | ".join(keys) + " | mean | SD |",
        "|" + "---|" * (len(keys) + 2),
    ]
    for row in sc.norm_rows:
        kv = row.key_values()
        cells = [
            str(kv[k]) if isinstance(kv[k], str) else f"{_num(kv[k][0])}-{_num(kv[k][1])}"
            for k in keys
        ]
        out.append("| " + " | ".join(cells) + f" | {row.mean:.2f} | {row.sd:.2f} |")
    return [*out, ""]


def deferred_markdown() -> str:
    """The measures that cannot be scored yet, with what is missing.

    Example:
        >>> "Student Resilience Survey" in deferred_markdown()
        True
    """
    lines = ["## Deferred and score-level-only measures", ""]
    lines += [f"- **{k}**: {v}" for k, v in DEFERRED.items()]
    return "\n".join(lines) + "\n"


def catalogue_markdown() -> str:
    """Every bundled instrument, one section each, generated from the YAML files."""
    parts = [
        "# Instrument catalogue",
        "",
        "Generated from the YAML files in `instruments/` when the site is built: what you read "
        "here is what the scoring engine applies. Copyrighted item wording is never shown; "
        "items appear as ids and short labels.",
        "",
    ]
    for i in list_instruments():
        parts.append(instrument_markdown(i))
    parts.append(deferred_markdown())
    return "\n".join(parts)
