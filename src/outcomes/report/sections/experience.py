"""Experience of the service: CHI-ESQ items; free text held back for a person to read."""

from __future__ import annotations

import pandas as pd

from ... import esq
from ..checks import EXPERIENCE
from ..release import Release, save_csv
from ..render import Section
from .common import failure_notes, guard, missing

TITLE, ANCHOR = "Experience", "experience"


def release(ev, rel: Release) -> None:
    present = [i for i in EXPERIENCE if i in ev.inputs.responses]
    if not present:
        return
    # every version's answers in one table, the instrument column saying which
    answers = pd.concat(
        [ev.inputs.responses[i].assign(instrument=i) for i in present], ignore_index=True
    )
    with guard(rel, "experience: items"):
        summ = esq.item_summary(answers).to_frame()
        cols = ["version", "item", "label", "n", "certainly_true", "prop_certainly_true"]
        rel.counts(
            summ[cols], "esq_items", counts=["n", "certainly_true"],
            percentages={"prop_certainly_true": ("certainly_true", "n")},
            within={"certainly_true": "n"},
        )  # fmt: skip
    with guard(rel, "experience: free text"):
        texts = esq.free_text(answers, seed=0)
        rel.facts["experience: free text"] = bool(len(texts))
        if len(texts) and not ev.cfg.experience.quote_free_text:
            # Comments can name people, and no program reliably removes names: they go to a
            # file for a person to read, and into the report only when the config says so.
            save_csv(texts[["version", "field_label", "text"]], ev.out / "for_review",
                     "esq_comments")  # fmt: skip
        elif len(texts):
            sample = texts.groupby(["version", "field"], sort=False).head(5)
            rel.labels(sample[["version", "field_label", "text"]], "esq_comments")


def render(rel: Release, cfg) -> Section:
    if not any(i in cfg.tables.responses for i in EXPERIENCE):
        return missing("Experience", ANCHOR, "no CHI-ESQ responses are")
    s = Section("Experience of the service (CHI-ESQ)", anchor=ANCHOR)
    failure_notes(s, rel, TITLE, "experience: items", "experience: free text")
    if rel.get("esq_items") is not None:
        s.text(
            "The share of answers 'Certainly true' to each statement, by questionnaire "
            "version. 'Don't know' and blank answers are not counted in n."
        )
        s.table(rel.get("esq_items"), "CHI-ESQ: share answering 'Certainly true' per item")
    if rel.get("esq_comments") is not None:
        s.text(
            "**What families and young people said** (a sample of free-text answers, checked "
            "before publication; contact details are removed automatically):"
        )
        s.table(rel.get("esq_comments"), "Free-text comments (sample)")
    elif rel.facts.get("experience: free text"):
        s.note(
            "Free-text comments were collected. They are not quoted here: comments can name "
            "children, families or staff. They are written to `for_review/esq_comments.csv` "
            "(not for publication) for someone to read; set `experience: {quote_free_text: "
            "true}` to quote a sample once they are checked."
        )
    return s
