"""Appendix: instruments and versions, software, input file hashes and the config used."""

from __future__ import annotations

import platform

import pandas as pd
import yaml

from ..._version import __version__
from ...instruments import load_instrument
from ..release import Release
from ..render import Section
from .common import failure_notes, guard

TITLE, ANCHOR = "Appendix", "appendix"


def release(ev, rel: Release) -> None:
    with guard(rel, "appendix: instruments"):
        insts = dict(ev.inputs.instruments)
        cfg = ev.cfg
        primary = {cfg.school_survey.primary_instrument} if cfg.tables.primary_survey else set()
        for i in sorted({cfg.staff_survey.instrument, cfg.school_survey.sdq_instrument,
                         "swemwbs", *primary} - set(insts)):  # fmt: skip
            insts[i] = load_instrument(i)
        rows = [
            {"instrument": i.id, "name": i.name, "version": str(i.version),
             "respondent": str(i.respondent)}
            for i in insts.values()
        ]  # fmt: skip
        rel.labels(pd.DataFrame(rows), "instruments")
    with guard(rel, "appendix: files"):
        files = cfg.input_files()
        rel.labels(
            pd.DataFrame(
                [{"input": k, "file": files[k].name, "sha256": v}
                 for k, v in ev.inputs.hashes.items()],
                columns=["input", "file", "sha256"],
            ),
            "input_files",
        )  # fmt: skip
    rel.facts["appendix: config"] = yaml.safe_dump(
        cfg.model_dump(mode="json", exclude={"source"}), sort_keys=False
    )


def render(rel: Release, cfg) -> Section:
    s = Section("Appendix: instruments, versions and inputs", anchor=ANCHOR)
    failure_notes(s, rel, TITLE, "appendix: instruments", "appendix: files")
    if rel.get("instruments") is not None:
        s.table(rel.get("instruments"), "Instruments")
    s.text(
        f"Produced with outcomes {__version__} on Python {platform.python_version()}. Scoring "
        "rules for each instrument are in the instrument catalogue of the documentation, "
        "generated from the same YAML definitions that scored these data."
    )
    if rel.get("input_files") is not None:
        s.table(rel.get("input_files"), "Input files and their SHA-256 hashes")
    s.text("**Configuration used:**")
    s.blocks.append(_Pre(rel.facts.get("appendix: config", "")))
    return s


class _Pre:
    def __init__(self, text: str):
        self.text = text

    def to_html(self) -> str:
        import html

        return f"<pre>{html.escape(self.text)}</pre>"
