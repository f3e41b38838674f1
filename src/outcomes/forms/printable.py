"""Printable HTML: a paper questionnaire where the licence allows the wording, otherwise a
codebook page for data entry (ids, short labels, answer codes and the licence notice).

Whether a section is a questionnaire is decided per instrument by ``licence.embed_wording``;
the wording itself is taken only through :func:`outcomes.forms._common.wording`, which repeats
that check, so a licensed text cannot reach the page by another path.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from .._internal.params import OPTIONAL_TEXT, validate_params
from ..instruments import Instrument
from ._common import (
    PACK_PARAMS,
    InstrumentsArg,
    PrefixArg,
    all_options,
    answers_text,
    continuous_text,
    display_label,
    field_names,
    load_pack,
    runs,
    section_title,
    wording,
)

_CSS = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; margin: 1.5cm; color: #000; }
h1 { font-size: 16pt; margin-bottom: 0.2em; }
h2 { font-size: 12pt; margin: 1em 0 0.4em; }
.meta, .licence, .notice { font-size: 9pt; }
.notice { border: 1px solid #000; padding: 0.4em 0.6em; margin: 0.6em 0; }
.respondent { margin: 0.8em 0 1em; }
.respondent span { display: inline-block; min-width: 14em; border-bottom: 1px solid #000;
  margin-right: 2em; padding-top: 1.2em; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0 1em; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #444; padding: 0.3em 0.4em; vertical-align: top; }
th { font-size: 9pt; font-weight: normal; background: #eee; }
td.box { text-align: center; width: 5.5em; }
td.box span { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #000; }
td.num { width: 2em; text-align: right; }
.textbox { border: 1px solid #000; height: 4.5em; margin: 0.3em 0 1em; }
section.instrument + section.instrument { break-before: page; page-break-before: always; }
@media print { body { margin: 0; } .noprint { display: none; } }
"""


def _questionnaire(inst: Instrument) -> list[str]:
    h = [
        f"<h1>{escape(inst.name)}</h1>",
        f'<p class="meta">{escape(inst.version)}</p>',
        '<p class="respondent"><span>ID:</span><span>Date:</span></p>',
    ]
    number = 0
    previous_section = None
    for run in runs(inst):
        first = run.items[0]
        if first.section and first.section != previous_section:
            h.append(f"<h2>{escape(section_title(first.section))}</h2>")
        previous_section = first.section
        if first.type == "text":
            number += 1
            h.append(
                f"<p><strong>{number}.</strong> {escape(wording(inst, first) or display_label(first))}</p>"
            )
            h.append('<div class="textbox"></div>')
            continue
        rset = inst.response_sets[run.response_set]
        if rset.is_continuous:
            # A line per item: the respondent's mark is measured afterwards.
            for it in run.items:
                number += 1
                h.append(
                    f"<p><strong>{number}.</strong> "
                    f"{escape(wording(inst, it) or display_label(it))} "
                    f"({escape(continuous_text(rset))})</p>"
                )
                h.append('<div class="textbox"></div>')
            continue
        opts = all_options(rset)
        h.append('<table class="grid">')
        h.append(
            "<tr><th></th><th></th>"
            + "".join(f"<th>{escape(o.label)}</th>" for o in opts)
            + "</tr>"
        )
        for it in run.items:
            number += 1
            h.append(
                f'<tr><td class="num">{number}</td><td>{escape(wording(inst, it) or display_label(it))}</td>'
                + "".join('<td class="box"><span></span></td>' for _ in opts)
                + "</tr>"
            )
        h.append("</table>")
    return h


def _codebook_page(inst: Instrument, names: dict) -> list[str]:
    h = [
        f"<h1>{escape(inst.name)}: codebook</h1>",
        f'<p class="meta">{escape(inst.version)}</p>',
        '<p class="notice">The wording of this questionnaire is licensed and is not reproduced '
        "here. Collect answers on the licensed form; use this page to enter them: item ids, "
        "field names, short labels and answer codes.</p>",
        '<table class="codebook"><tr><th>#</th><th>item</th><th>field</th><th>short label</th>'
        "<th>answer codes</th></tr>",
    ]
    for n, it in enumerate(inst.items, start=1):
        if it.type == "text":
            answers = "free text"
        else:
            answers = answers_text(inst.response_sets[it.response_set])
        h.append(
            f'<tr><td class="num">{n}</td><td>{escape(it.id)}</td>'
            f"<td>{escape(names[(inst.id, it.id)])}</td><td>{escape(it.label)}</td>"
            f"<td>{escape(answers)}</td></tr>"
        )
    h.append("</table>")
    return h


@validate_params(
    {
        **PACK_PARAMS,
        "title": OPTIONAL_TEXT,
    }
)
def html_questionnaire(
    instruments: InstrumentsArg, *, prefix: PrefixArg = True, title: str | None = None
) -> str:
    """A self-contained printable HTML page for one instrument or a pack.

    Instruments whose licence allows the wording (``licence.embed_wording``) are printed as
    questionnaires with tick boxes; the others as codebook pages with the licence notice and
    no wording.

    Example:
        >>> from outcomes.forms import html_questionnaire
        >>> page = html_questionnaire("sdq_parent")
        >>> "codebook" in page and "youthinmind" in page
        True
    """
    pack = load_pack(instruments)
    names = field_names(pack, prefix)
    head = title or " + ".join(i.name for i in pack)
    h = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(head)}</title><style>{_CSS}</style></head><body>",
    ]
    for inst in pack:
        h.append(f'<section class="instrument" id="{escape(inst.id)}">')
        h += _questionnaire(inst) if inst.licence.embed_wording else _codebook_page(inst, names)
        h.append(
            f'<p class="licence">{escape(inst.licence.text.strip())}<br>'
            f"Citation: {escape(inst.citation.strip())}</p>"
        )
        h.append("</section>")
    h.append("</body></html>")
    return "\n".join(h)


def write_html(
    instruments: InstrumentsArg,
    path: str | Path,
    *,
    prefix: PrefixArg = True,
    title: str | None = None,
) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(html_questionnaire(instruments, prefix=prefix, title=title), encoding="utf-8")
    return p
