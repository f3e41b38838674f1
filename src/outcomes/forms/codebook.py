"""Codebooks: what every field of an export holds, as a tidy table (CSV) or Markdown.

A codebook carries ids, field names, short labels, codes and scoring facts, never licensed
wording, so it can be shared for any instrument.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._internal.params import validate_params
from .._internal.spreadsheet import write_csv
from ..instruments import Instrument
from ._common import (
    PACK_PARAMS,
    FormsError,
    InstrumentsArg,
    PrefixArg,
    answers_text,
    continuous_text,
    field_names,
    fmt_code,
    load_pack,
    scales_using,
    scored_value,
)

CODEBOOK_COLUMNS = (
    "instrument",
    "number",
    "item",
    "field_name",
    "label",
    "type",
    "section",
    "required",
    "response_set",
    "code",
    "value_label",
    "no_answer",
    "score",
    "reverse",
    "scales",
)


@validate_params(PACK_PARAMS)
def codebook(instruments: InstrumentsArg, *, prefix: PrefixArg = True) -> pd.DataFrame:
    """One row per item and answer code (one row for a free-text item).

    ``score`` is what the code contributes to scales after reverse keying or recoding (NaN
    for answers that mean "no answer", which ``no_answer`` marks); ``field_name`` is the name
    used in the REDCap and XLSForm exports with the same ``prefix``.

    Example:
        >>> from outcomes.forms import codebook
        >>> cb = codebook("sdq_parent")
        >>> cb.loc[cb["item"] == "obeys", ["code", "value_label", "score"]].values.tolist()
        [[0, 'Not true', 2.0], [1, 'Somewhat true', 1.0], [2, 'Certainly true', 0.0]]
    """
    pack = load_pack(instruments)
    names = field_names(pack, prefix)
    rows: list[dict] = []
    for inst in pack:
        used = scales_using(inst)
        for n, it in enumerate(inst.items, start=1):
            base = {
                "instrument": inst.id,
                "number": n,
                "item": it.id,
                "field_name": names[(inst.id, it.id)],
                "label": it.label,
                "type": it.type,
                "section": it.section or "",
                "required": it.required,
                "response_set": it.response_set or "",
                "reverse": it.reverse,
                "scales": ", ".join(used[it.id]),
            }
            if it.type == "text":
                rows.append({**base, "code": None, "value_label": "", "no_answer": False})
                continue
            rs = inst.response_sets[it.response_set]
            if rs.is_continuous:
                rows.append(
                    {**base, "code": None, "value_label": continuous_text(rs), "no_answer": False}
                )
            for o in rs.options:
                rows.append(
                    {
                        **base,
                        "code": o.code,
                        "value_label": o.label,
                        "no_answer": False,
                        "score": scored_value(inst, it, o.code),
                    }
                )
            for o in rs.missing:
                rows.append({**base, "code": o.code, "value_label": o.label, "no_answer": True})
    out = pd.DataFrame(rows).reindex(columns=list(CODEBOOK_COLUMNS))
    out["score"] = out["score"].astype(float)
    out["code"] = out["code"].astype(object)
    return out


def _md(s: object) -> str:
    """A Markdown table cell: pipes escaped, line breaks flattened."""
    return " ".join(str(s).split()).replace("|", "\\|")


def _instrument_markdown(inst: Instrument, cb: pd.DataFrame) -> list[str]:
    lines = [f"## {_md(inst.name)} (`{inst.id}`)", ""]
    lines += [
        f"- Version: {_md(inst.version)}; respondent: {inst.respondent}"
        + (f"; ages {inst.age_range[0]:g}-{inst.age_range[1]:g}" if inst.age_range else ""),
        f"- Licence: {_md(inst.licence.text)}",
        f"- Citation: {_md(inst.citation)}",
    ]
    if not inst.licence.embed_wording:
        lines.append(
            "- Item wording is licensed and not reproduced: labels below are short labels."
        )
    lines += ["", "| # | item | field | label | answers (code = label) | scored as | scales |"]
    lines.append("|---|---|---|---|---|---|---|")
    mine = cb[cb["instrument"] == inst.id]
    for item_id, g in mine.groupby("item", sort=False):
        first = g.iloc[0]
        if first["type"] == "text":
            answers, scored = "free text", "-"
        elif inst.response_sets[first["response_set"]].is_continuous:
            answers = answers_text(inst.response_sets[first["response_set"]])
            scored = "reverse: highest + lowest - answer" if first["reverse"] else "as answered"
        else:
            answers = "; ".join(
                f"{fmt_code(c)} = {lab}" + (" (no answer)" if na else "")
                for c, lab, na in zip(g["code"], g["value_label"], g["no_answer"], strict=True)
            )
            sc = g.loc[~g["no_answer"], "score"]
            codes = g.loc[~g["no_answer"], "code"]
            same = np.allclose(sc.to_numpy(float), codes.to_numpy(float))
            scored = (
                "as coded"
                if same
                else ", ".join(
                    f"{fmt_code(c)}->{fmt_code(s)}" for c, s in zip(codes, sc, strict=True)
                )
            )
            if first["reverse"]:
                scored = "reverse: " + scored
        label = first["label"] + ("" if first["required"] else " (optional)")
        lines.append(
            f"| {first['number']} | `{item_id}` | `{first['field_name']}` | {_md(label)} | "
            f"{_md(answers)} | {_md(scored)} | {_md(first['scales']) or '-'} |"
        )
    lines += ["", "| scale | label | method | from | min answered | range | better |"]
    lines.append("|---|---|---|---|---|---|---|")
    for sc in inst.scales:
        lo, hi = inst.scale_range(sc.id)
        method = sc.method + (" (prorated)" if sc.prorate else "")
        lines.append(
            f"| `{sc.id}` | {_md(sc.label)} | {method} | {_md(', '.join(sc.parts))} | "
            f"{sc.required_answered} | {lo:g}-{hi:g} | "
            f"{'higher' if sc.higher_is_better else 'lower'} |"
        )
    lines.append("")
    return lines


@validate_params(PACK_PARAMS)
def codebook_markdown(instruments: InstrumentsArg, *, prefix: PrefixArg = True) -> str:
    """The codebook as Markdown: one section per instrument (items, answers, scales).

    Example:
        >>> from outcomes.forms import codebook_markdown
        >>> codebook_markdown("gbo").splitlines()[0]
        '# Codebook: Goal Based Outcomes (GBO)'
    """
    pack = load_pack(instruments)
    cb = codebook(pack, prefix=prefix)
    title = " + ".join(i.name for i in pack)
    lines = [f"# Codebook: {_md(title)}", ""]
    lines.append(
        "Field names are those of the REDCap and XLSForm exports; codes are the values the "
        "scoring engine reads. Answers marked 'no answer' are recorded but not scored."
    )
    lines.append("")
    for inst in pack:
        lines += _instrument_markdown(inst, cb)
    return "\n".join(lines)


def write_codebook(
    instruments: InstrumentsArg, path: str | Path, *, prefix: PrefixArg = True
) -> Path:
    """Write the codebook as CSV (``.csv``) or Markdown (``.md``), by the file's extension."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".md", ".markdown"):
        raise FormsError(
            f"{p}: a codebook is written as .csv or .md; got {p.suffix or 'no suffix'!r}"
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        write_csv(codebook(instruments, prefix=prefix), p)
    else:
        p.write_text(codebook_markdown(instruments, prefix=prefix) + "\n", encoding="utf-8")
    return p
