"""Markdown descriptions of instruments, generated from their YAML definitions.

Used by the documentation site (the instrument catalogue) and the report appendix, so the
published description of a scoring rule can never drift from the rule that is applied.
"""

from __future__ import annotations

from .model import Instrument, list_instruments, load_instrument


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
        codes = "; ".join(f"{o.code} = {_cell(o.label)}" for o in rs.options)
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
    if inst.sources:
        out += ["", f"{h}# Sources", ""]
        out += [f"- **{k}**: {_cell(v)}" for k, v in inst.sources.items()]
    if inst.notes:
        out += ["", f"{h}# Notes", ""]
        out += [f"- {_cell(n)}" for n in inst.notes]
    return "\n".join(out) + "\n"


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
    return "\n".join(parts)
