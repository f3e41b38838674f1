"""Pieces shared by every exporter: which instruments, what each field is called, what to show.

One rule names fields everywhere (REDCap, XLSForm, codebook): ``<prefix>_<item id>``, where the
prefix is the instrument id unless the caller gives a shorter one. Item ids such as ``q1`` recur
across instruments, and REDCap field names are project-wide, so a pack needs the prefix; using
it for single instruments too keeps one export importable next to another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._internal.params import INSTRUMENT
from ..errors import OutcomesError
from ..instruments import Instrument, Item, ResponseOption, ResponseSet, load_instrument

InstrumentsArg = str | Path | Instrument | Sequence[str | Path | Instrument]
PrefixArg = bool | Mapping[str, str]
#: how validate_params checks an InstrumentsArg and a PrefixArg
PACK_PARAMS = {"instruments": [*INSTRUMENT, list, tuple], "prefix": ["boolean", Mapping]}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class FormsError(OutcomesError):
    """An instrument cannot be exported as asked (bad prefix, clashing names, bad option)."""


def load_pack(instruments: InstrumentsArg) -> list[Instrument]:
    """One instrument or several, loaded; the same instrument twice is refused."""
    if isinstance(instruments, str | Path | Instrument):
        instruments = [instruments]
    pack = [load_instrument(i) for i in instruments]
    if not pack:
        raise FormsError("no instruments given: pass at least one id, path or Instrument")
    ids = [i.id for i in pack]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise FormsError(f"instrument(s) listed twice: {twice}")
    # A form without questions would collect nothing, silently.
    empty = [i.id for i in pack if not i.items]
    if empty:
        raise FormsError(
            f"{empty} are defined at score level only (no items to ask); record their scale "
            "scores and read them with oc.score(..., input='scales')"
        )
    return pack


def prefix_of(inst: Instrument, prefix: PrefixArg) -> str:
    """The field-name prefix of one instrument ('' when prefixes are off)."""
    if prefix is False:
        return ""
    if prefix is True:
        return inst.id
    p = dict(prefix).get(inst.id, inst.id)
    if not _NAME_RE.match(p):
        raise FormsError(
            f"prefix {p!r} for {inst.id}: use lower-case letters, digits and underscores, "
            "starting with a letter"
        )
    return p


def field_name(item_id: str, prefix: str) -> str:
    return f"{prefix}_{item_id}" if prefix else item_id


def form_name(inst: Instrument, prefix: PrefixArg) -> str:
    """REDCap form / XLSForm group name: the prefix, or the instrument id without prefixes."""
    return prefix_of(inst, prefix) or inst.id


def field_names(pack: Sequence[Instrument], prefix: PrefixArg) -> dict[tuple[str, str], str]:
    """(instrument id, item id) -> field name for a whole pack, refusing clashes."""
    out: dict[tuple[str, str], str] = {}
    seen: dict[str, tuple[str, str]] = {}
    for inst in pack:
        p = prefix_of(inst, prefix)
        for it in inst.items:
            name = field_name(it.id, p)
            if name in seen:
                a, b = seen[name], (inst.id, it.id)
                raise FormsError(
                    f"field name {name!r} is used by {a[0]}.{a[1]} and {b[0]}.{b[1]}; "
                    "keep prefix=True or give each instrument its own prefix"
                )
            seen[name] = (inst.id, it.id)
            out[(inst.id, it.id)] = name
    return out


def all_options(rset: ResponseSet) -> tuple[ResponseOption, ...]:
    """Answer options a respondent can pick: the scored ones, then 'no answer' ones."""
    return (*rset.options, *rset.missing)


def fmt_code(code: float) -> str:
    return str(int(code)) if float(code).is_integer() else str(code)


def continuous_text(rset: ResponseSet) -> str:
    """A continuous answer in words: '0 to 10 in steps of 0.1'.

    Example:
        >>> from outcomes.instruments import load_instrument
        >>> continuous_text(load_instrument("ors").response_sets["line"])
        'a number from 0 to 10 in steps of 0.1'
    """
    c = rset.continuous
    return f"a number from {fmt_code(c.min)} to {fmt_code(c.max)} in steps of {fmt_code(c.step)}"


def answers_text(rset: ResponseSet) -> str:
    """Every answer of a response set in words: codes and labels, or the continuous range,
    then the no-answer codes."""
    if rset.is_continuous:
        text = continuous_text(rset)
    else:
        text = "; ".join(f"{fmt_code(o.code)} = {o.label}" for o in rset.options)
    if rset.missing:
        text += "; no answer: " + "; ".join(f"{fmt_code(o.code)} = {o.label}" for o in rset.missing)
    return text


def display_label(item: Item) -> str:
    """Short label with a capital first letter, for forms."""
    lab = item.label.strip()
    return lab[:1].upper() + lab[1:]


def wording(inst: Instrument, item: Item) -> str | None:
    """The item's full wording when the licence allows showing it, else None.

    The model already refuses text under ``embed_wording: false``; this check repeats the rule
    at the point of output so that no code path can print licensed wording.
    """
    if inst.licence.embed_wording and item.text:
        return item.text
    return None


def shown_text(inst: Instrument, item: Item) -> str:
    """What a form shows for the item: full wording where allowed, else the short label."""
    return wording(inst, item) or display_label(item)


@dataclass(frozen=True)
class Run:
    """Consecutive coded items sharing a response set and section: one grid on a form."""

    response_set: str | None
    section: str | None
    items: tuple[Item, ...]


def runs(inst: Instrument) -> list[Run]:
    """Split the items into runs (grids of coded items; text items stand alone)."""
    out: list[Run] = []
    for it in inst.items:
        key = (it.response_set, it.section)
        last = out[-1] if out else None
        if (
            last is not None
            and it.type == "coded"
            and last.items[-1].type == "coded"
            and (last.response_set, last.section) == key
        ):
            out[-1] = Run(last.response_set, last.section, (*last.items, it))
        else:
            out.append(Run(it.response_set, it.section, (it,)))
    return out


def section_title(section: str) -> str:
    """'A' -> 'Section A'; longer names are shown as they are, capitalised."""
    s = section.strip()
    if len(s) <= 2:
        return f"Section {s}"
    return s[:1].upper() + s[1:]


def scales_using(inst: Instrument) -> dict[str, list[str]]:
    """Item id -> ids of the scales that read it directly."""
    out: dict[str, list[str]] = {it.id: [] for it in inst.items}
    for sc in inst.scales:
        for i in sc.items:
            out[i].append(sc.id)
    return out


def scored_value(inst: Instrument, item: Item, code: float) -> float | None:
    """The score a code contributes (after reverse keying or recoding); None for no answer."""
    rs = inst.response_sets[item.response_set]
    if code in rs.missing_codes:
        return None
    if item.recode:
        return float(item.recode[code])
    if item.reverse:
        lo, hi = rs.bounds
        return float(lo + hi - code)
    return float(code)
