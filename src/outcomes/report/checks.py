"""Every name in the evaluation config matched against the data, before anything runs.

A name that matches nothing (a subgroup column, an inappropriate-referral reason, a survey wave,
an instrument or scale, a school) would otherwise change the report silently: a misspelt reason
halves the inappropriate rate, a misspelt subgroup drops out of the equity section, a wave that
is not in the data removes a comparison. Each such name is a problem with a did-you-mean
suggestion; :func:`outcomes.report.inputs.load_inputs` lists them all and stops. So is a success
measure (``targets``) the config cannot give: its table left out, or an outcome measure that is
not a measure of change of the responses.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .._internal.ids import index_in, of_another_person, of_shared_referral
from .._internal.text import did_you_mean, shown, unknown
from .._internal.waves import check_lookalikes
from ..errors import OutcomesError
from ..instruments import Instrument, load_instrument
from ..privacy import _canonical
from ..service import _parse_accepted, empty_date_columns
from .config import ALL_NOT_ACCEPTED, EvaluationConfig

#: CHI-ESQ versions: experience measures, not outcome measures (never paired for change)
EXPERIENCE = ("chi_esq_parent", "chi_esq_9_11", "chi_esq_12_18")
SURVEYS = ("school_survey", "staff_survey")
#: surveys whose waves are set by another survey's config: the primary survey is read at the
#: school survey's waves
WAVES_OF = {"primary_survey": "school_survey"}


def _values(col: pd.Series) -> list[str]:
    """The distinct non-blank values of a column as text, in order of first appearance."""
    if not isinstance(col.dtype, pd.StringDtype):
        # other values can be equal with different texts (0 and 0.0, -0.0 and 0.0)
        col = col.dropna().astype(str)
    # Each distinct text is trimmed once, not every cell (unique() keeps the order of first
    # appearance); texts that differ only in spaces then meet as one, at the first of them.
    txt = pd.Series(col.unique()).dropna().astype(str).str.strip()
    return [v for v in dict.fromkeys(txt.tolist()) if v != ""]


def data_waves(df: pd.DataFrame) -> list[str]:
    """The waves present in a survey table, in order of first appearance.

    Example:
        >>> data_waves(pd.DataFrame({"wave": ["12m", "baseline", "12m", None, " "]}))
        ['12m', 'baseline']
    """
    return _values(df["wave"]) if "wave" in df.columns else []


def resolve_waves(cfg: EvaluationConfig, raw: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """The survey waves to report, per survey: the config's order, every present wave.

    Only meaningful once :func:`check_names` found no problem (every data wave is then either
    in the config's list or excluded on purpose).

    Example:
        >>> from outcomes.report.config import load_config
        >>> cfg = load_config({"programme": "P", "period": {"start": "2025-09-01",
        ...     "end": "2026-08-31"}, "tables": {"staff_survey": "s.csv"},
        ...     "staff_survey": {"waves": ["baseline", "6m", "12m"]}})
        >>> staff = pd.DataFrame({"school_id": ["A"] * 3, "wave": ["12m", "baseline", "6m"]})
        >>> resolve_waves(cfg, {"staff_survey": staff})
        {'school_survey': [], 'staff_survey': ['baseline', '6m', '12m']}
    """
    out: dict[str, list[str]] = {}
    for name in SURVEYS:
        present = set(data_waves(raw[name])) if name in raw else set()
        out[name] = [w for w in getattr(cfg, name).waves if w in present]
    return out


def _check_waves(cfg: EvaluationConfig, name: str, df: pd.DataFrame, table: str = "") -> list[str]:
    """Problems of the waves of survey ``name``'s config against a table (default: its own)."""
    section = getattr(cfg, name)
    present = data_waves(df)
    where = f"{table}: {name}" if table else name
    problems = []
    for w in section.waves:
        if w not in present:
            problems.append(f"{where}.waves: {unknown('wave', w, present)} (waves in the data)")
    for w in [] if table else section.exclude_waves:  # excluded from the config's own table
        if w not in present:
            problems.append(
                f"{where}.exclude_waves: {unknown('wave', w, present)} (waves in the data)"
            )
    for w in present:
        if w not in section.waves and w not in section.exclude_waves:
            try:  # a label that reads as a configured one (lookalike letters, same time)
                check_lookalikes(section.waves, [w])
            except OutcomesError as e:
                problems.append(f"{table or name}: {e}")
                continue
            problems.append(
                f"{table or name}: wave {w!r} is in the data but not in {name}.waves "
                f"{section.waves}; add it in its place in the order, or list it under "
                f"{name}.exclude_waves"
            )
    return problems


def _check_reasons(cfg: EvaluationConfig, ref: pd.DataFrame) -> list[str]:
    reasons = cfg.service.inappropriate_reasons
    if "accepted" not in ref.columns:
        return []
    accepted, _ = _parse_accepted(ref["accepted"])
    not_acc = (accepted == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
    if not not_acc.any() or reasons == ALL_NOT_ACCEPTED:
        return []
    if "not_accepted_reason" in ref.columns:
        present = _values(ref.loc[not_acc, "not_accepted_reason"])
    else:
        present = []
    if reasons is None:
        listed = f"; reasons recorded: {present}" if present else ""
        return [
            f"service.inappropriate_reasons is required: the referrals table has "
            f"not-accepted referrals{listed}. List the reasons that count as inappropriate, or "
            f"write `inappropriate_reasons: {ALL_NOT_ACCEPTED}` to count every not-accepted "
            "referral (including, say, those declined by the family)"
        ]
    if "not_accepted_reason" not in ref.columns:
        return [
            "service.inappropriate_reasons: the referrals table has no not_accepted_reason "
            f"column; write `inappropriate_reasons: {ALL_NOT_ACCEPTED}` to count every "
            "not-accepted referral"
        ]
    # The same matching as outcomes.service (trimmed, case-insensitive).
    known = {p.casefold() for p in present}
    return [
        "service.inappropriate_reasons: "
        + unknown("reason", r, present)
        + " (reasons of the not-accepted referrals; leave out a reason no referral had)"
        for r in reasons
        if str(r).strip().casefold() not in known
    ]


def _no_column(setting: str, column: object, columns: list, of: str) -> str:
    """The problem of a setting that names a column the table (``of``) does not have."""
    return f"{setting}: {unknown('column', column, columns)} (columns of {of})"


def _check_columns(cfg: EvaluationConfig, raw: dict[str, pd.DataFrame]) -> list[str]:
    problems = []
    ref = raw.get("referrals")
    if ref is not None:
        cols = [str(c) for c in ref.columns] + (["age_band"] if "age" in ref.columns else [])
        where = "the referrals table"
    else:
        # Without referrals the subgroups come from the children's questionnaire tables.
        cols = sorted({str(c) for k, df in raw.items() if k.startswith("responses:") for c in df})
        where = "the responses tables"
    # The default list is a menu (groups absent from the data are left out); a list written in
    # the config is a promise that each group is there.
    if "subgroups" in cfg.model_fields_set and (ref is not None or cols):
        for g in cfg.subgroups:
            if g not in cols:
                problems.append(_no_column("subgroups", g, cols, where))

    # A column named in the config must exist; a default the config never mentions may be
    # absent (no comparison schools; staff not linked across waves).
    school = cfg.school_survey
    explicit = school.model_fields_set
    schools = raw.get("schools")
    if schools is not None and (
        "programme_column" in explicit or school.programme_column in schools.columns
    ):
        if school.programme_column not in schools.columns:
            problems.append(
                _no_column(
                    "school_survey.programme_column", school.programme_column,
                    list(schools.columns), "the schools table",
                )
            )  # fmt: skip
    elif schools is None and "programme_column" in explicit:
        problems.append(
            "school_survey.programme_column is set but the config names no schools table"
        )
    sv = raw.get("school_survey")
    if sv is not None and "swemwbs_prefix" in explicit:
        wanted = [f"{school.swemwbs_prefix}q{i}" for i in range(1, 8)]
        for c in wanted:
            if c not in sv.columns:
                problems.append(
                    _no_column(
                        "school_survey.swemwbs_prefix", c, list(sv.columns), "the school survey"
                    )
                )
    staff = raw.get("staff_survey")
    st = cfg.staff_survey
    if staff is not None and "respondent_column" in st.model_fields_set:
        if st.respondent_column not in staff.columns:
            problems.append(
                _no_column(
                    "staff_survey.respondent_column", st.respondent_column,
                    list(staff.columns), "the staff survey",
                )
            )  # fmt: skip
    return problems


def _check_instruments(cfg: EvaluationConfig, raw: dict[str, pd.DataFrame]) -> list[str]:
    problems = []
    for label, df in raw.items():
        if not label.startswith("responses:") or "instrument" not in df.columns:
            continue
        inst_id = label.split(":", 1)[1]
        for other in _values(df["instrument"]):
            if other != inst_id:
                problems.append(
                    f"{label}: the file's instrument column holds {other!r}, but the config "
                    f"lists the file under {inst_id!r}"
                    + did_you_mean(other, list(cfg.tables.responses))
                )
    inst_id, _, scale = cfg.outcomes.headline.partition(".")
    if cfg.tables.responses:
        if inst_id not in cfg.tables.responses:
            problems.append(
                "outcomes.headline: "
                + unknown("instrument", inst_id, list(cfg.tables.responses))
                + " (instruments under tables.responses)"
                + (
                    ""
                    if "headline" in cfg.outcomes.model_fields_set
                    else f"; {cfg.outcomes.headline} is the default: set outcomes.headline "
                    "to the instrument.scale the report leads with"
                )
            )
        else:
            try:
                scales = [s.id for s in load_instrument(inst_id).scales]
            except OutcomesError:
                scales = None  # reported where the instrument is loaded
            if scales is not None and scale not in scales:
                problems.append(
                    f"outcomes.headline: {unknown('scale', scale, scales)} (scales of {inst_id})"
                )
    o = cfg.outcomes
    if o.rule == "waves":
        present = sorted(
            {w for k, df in raw.items() if k.startswith("responses:") for w in data_waves(df)}
        )
        for name in ("baseline_wave", "followup_wave"):
            w = getattr(o, name)
            if w is None:
                problems.append(f"outcomes.{name} is required with rule: waves")
            elif w not in present:
                problems.append(
                    f"outcomes.{name}: {unknown('wave', w, present)} (waves of the responses)"
                )
    if "school_survey" in raw:
        try:
            total = load_instrument(cfg.school_survey.sdq_instrument).scale("total_difficulties")
            bands = [b.label for b in total.bands[0].levels] if total.bands else []
        except (OutcomesError, KeyError, ValueError):
            bands = None  # the instrument problem is reported where it is loaded
        for b in cfg.school_survey.sdq_bands if bands else []:
            if b not in bands:
                problems.append(f"school_survey.sdq_bands: {unknown('band', b, bands)}")
    if "primary_survey" in raw:
        sc = cfg.school_survey
        try:
            scales = [x.id for x in load_instrument(sc.primary_instrument).scales]
        except OutcomesError:
            scales = None  # the instrument problem is reported where it is loaded
        if scales is not None and sc.primary_scale not in scales:
            problems.append(
                f"school_survey.primary_scale: {unknown('scale', sc.primary_scale, scales)} "
                f"(scales of {sc.primary_instrument})"
            )
    return problems


def paired_for_change(inst_id: str, inst: Instrument) -> bool:
    """Whether the report pairs an instrument's scores (baseline and follow-up): an outcome
    measure, not an experience one, with a reliable-change threshold, a clinical cut-off or a
    scale of several parts."""
    return inst_id not in EXPERIENCE and any(
        s.reliable_change or s.clinical_cutoff or len(s.parts) > 1 for s in inst.scales
    )


def change_measures(instruments: Mapping[str, Instrument]) -> list[str]:
    """``instrument.scale`` of every measure whose change the report can publish
    (``change_by_measure``): the scales of several parts of the instruments it pairs.

    Example:
        >>> change_measures({"gad_7": load_instrument("gad_7")})
        ['gad_7.total']
    """
    return [
        f"{i}.{sc.id}"
        for i, inst in instruments.items()
        if paired_for_change(i, inst)
        for sc in inst.scales
        if len(sc.parts) > 1
    ]


#: the table each success measure is computed from: (config key under tables, what it is)
TARGET_TABLES = {
    "seen_within_standard": ("referrals", "the referrals table"),
    "inappropriate_rate": ("referrals", "the referrals table"),
    "staff_confidence_change": ("staff_survey", "the staff survey"),
}


def _check_targets(cfg: EvaluationConfig, raw: dict[str, pd.DataFrame]) -> list[str]:
    """Success measures the config's tables cannot give: a target whose table is not in the
    config, and an outcome-improvement measure that is not a measure of change of the
    responses (it would fail while the report runs, or leave the scorecard short)."""
    t = cfg.targets
    problems = []
    for key, (table, what) in TARGET_TABLES.items():
        if getattr(t, key) is not None and getattr(cfg.tables, table) is None:
            problems.append(
                f"targets.{key}: needs {what}, and tables.{table} is not in the config; add "
                "the table or leave the target out"
            )
    ref = raw.get("referrals")
    if t.seen_within_standard is not None and ref is not None:
        if "first_contact_date" not in ref.columns:
            problems.append(
                _no_column(
                    "targets.seen_within_standard", "first_contact_date",
                    [str(c) for c in ref.columns],
                    "the referrals table; the share seen is of first contacts",
                )
            )  # fmt: skip
        elif empty_date_columns(ref, ["first_contact_date"]):
            problems.append(
                "targets.seen_within_standard: the referrals table's first_contact_date column "
                "is empty (no referral has a date in it), so the share seen cannot be known; "
                "fill the column or leave the target out"
            )
    if t.experience is not None and not set(EXPERIENCE) & set(cfg.tables.responses):
        listed = ", ".join(cfg.tables.responses) or "none"
        problems.append(
            f"targets.experience: needs a CHI-ESQ table under tables.responses "
            f"({', '.join(EXPERIENCE)}); the config lists {listed}"
        )
    if t.outcome_improvement is not None:
        problems += _check_outcome_target(cfg)
    return problems


def _check_outcome_target(cfg: EvaluationConfig) -> list[str]:
    given = cfg.targets.outcome_improvement.measure
    measure = given or cfg.outcomes.headline
    if not cfg.tables.responses:
        return [
            "targets.outcome_improvement: needs outcome measure responses, and "
            "tables.responses lists none"
        ]
    instruments = {}
    for inst_id in cfg.tables.responses:
        try:
            instruments[inst_id] = load_instrument(inst_id)
        except OutcomesError:
            pass  # reported where the instrument is loaded
    inst_id, _, scale = measure.partition(".")
    have = change_measures(instruments)
    if measure in have or (inst_id in cfg.tables.responses and inst_id not in instruments):
        return []
    why = (
        f"; {inst_id} is an experience measure, never paired for change"
        if inst_id in EXPERIENCE
        else ""
    )
    if given:
        return [
            "targets.outcome_improvement.measure: "
            + unknown("measure of change", measure, have)
            + f" (the composite scales of the outcome measures under tables.responses){why}"
        ]
    known = inst_id in instruments and scale in [s.id for s in instruments[inst_id].scales]
    if not known:
        return []  # the headline's own check names it
    return [
        f"targets.outcome_improvement.measure: not given, and its default, outcomes.headline "
        f"{measure!r}, is not a measure of change{why}; set the measure"
        + did_you_mean(measure, have)
    ]


def _check_schools(raw: dict[str, pd.DataFrame]) -> list[str]:
    """Every table's school ids that the schools table does not list, compared as the ids the
    build links them by (:func:`id_text`: trimmed text, 3.0 is 3; the build makes each table's
    school_id that text, :func:`outcomes.report.inputs.load_inputs`)."""
    schools = raw.get("schools")
    if schools is None:
        return []
    known = _values(id_text(schools["school_id"]))
    listed = set(known)
    problems = []
    for label, df in raw.items():
        if label == "schools" or "school_id" not in df.columns:
            continue
        ids = id_text(df["school_id"])
        for sid in [s for s in _values(ids) if s not in listed][:5]:
            rows = int((ids == sid).sum())
            problems.append(
                f"{label}: {unknown('school_id', sid, known)} "
                f"(schools table; {rows} row(s) name it)"
            )
    return problems


#: the published words for the two ways a score row's referral_id fails its child (no id
#: in them: the quality notes are published)
UNKNOWN_REFERRAL = "score row(s) naming a referral_id the referrals table does not hold"
OTHER_PERSON = "score row(s) whose person_id is not that of the referral they name"


def id_text(col: pd.Series) -> pd.Series:
    """An id column as the text the pseudonymiser hashes it as (trimmed; 7.0 is 7), blanks
    missing: rows that the build links must be linked here too."""
    if isinstance(col.dtype, pd.StringDtype):  # as read (io.read_table): text, trimmed
        txt = col.str.strip()
    else:  # each distinct value once (numbers, text, or both in one column)
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        canon = pd.array(_canonical(uniques.to_numpy(dtype=object)), dtype="string")
        txt = pd.Series(canon.take(codes, allow_fill=True), index=col.index)
    return txt.mask(txt == "")


def referral_links(
    raw: dict[str, pd.DataFrame],
) -> dict[str, dict[str, tuple[pd.Series, list[str]]]]:
    """Per responses table, the rows whose referral_id does not lead to the child scored.

    For each table with such rows: :data:`UNKNOWN_REFERRAL` or :data:`OTHER_PERSON` -> (which
    rows, as a boolean Series on the table's index; problems naming up to five examples, for
    the build to stop on). A score naming an unknown referral pairs with no referral: the NHS
    metric and the change analyses left it out unsaid. A score naming another child's referral
    would pair that referral with someone else's scores; one of its two ids is wrong, and which
    cannot be known.

    Example:
        >>> ref = pd.DataFrame({"referral_id": ["R1", "R2"], "person_id": ["P1", "P2"]})
        >>> sc = pd.DataFrame({"referral_id": ["R1", "R1", "r2"], "person_id": ["P1", "P2", "P2"]})
        >>> for what, (rows, problems) in referral_links({"referrals": ref,
        ...         "responses:sdq_parent": sc})["responses:sdq_parent"].items():
        ...     print(rows.tolist(), problems)
        [False, False, True] ["unknown referral_id 'r2'; did you mean 'R2'? (referrals table; 1 row(s) name it)"]
        [False, True, False] ["1 row(s) name the referral of another person_id (referrals table): referral_id 'R1' belongs to person_id 'P1', not 'P2' (1 row(s))"]
    """
    referrals = raw.get("referrals")
    if referrals is None or "referral_id" not in referrals.columns:
        return {}
    ref_ids = id_text(referrals["referral_id"])
    # each referral's person; a duplicate referral_id is the referrals table's own error, and
    # its first row speaks here, unless its rows name different persons: which is right
    # cannot be known, so no score of it is another's (by row order, one child's would be)
    first = (ref_ids.notna() & ~ref_ids.duplicated()).to_numpy()
    listed = ref_ids[first]  # the referral ids, trimmed, once each, in order of appearance
    known = listed.tolist()  # for the suggestions
    person_of = None
    if "person_id" in referrals.columns:
        persons = id_text(referrals["person_id"])
        shared = of_shared_referral(
            pd.factorize(ref_ids)[0], pd.factorize(persons, use_na_sentinel=True)[0]
        )
        person_of = pd.Series(persons.mask(shared)[first].array, listed.array)
    found = {}
    for label, df in raw.items():
        if not label.startswith("responses:") or "referral_id" not in df.columns:
            continue
        links = {}
        ids = id_text(df["referral_id"])
        # each row's referral (-1: none), found once for both questions (a text isin against
        # a set compared every listed id in Python, for every table)
        pos = index_in(ids, listed)
        unknown_rows = ids.notna() & pd.Series(pos < 0, df.index)
        if unknown_rows.any():
            counts = ids[unknown_rows].value_counts(sort=False)
            problems = [
                f"{unknown('referral_id', r, known)} (referrals table; "
                f"{int(counts[r])} row(s) name it)"
                for r in _values(ids[unknown_rows])[:5]
            ]
            links[UNKNOWN_REFERRAL] = (unknown_rows, problems)
        if person_of is not None and "person_id" in df.columns:
            person = id_text(df["person_id"])
            other = pd.Series(of_another_person(pos, person, person_of), df.index)
            if other.any():
                seen = person[other].groupby(ids[other], sort=False).value_counts(sort=False)
                examples = "; ".join(
                    f"referral_id {shown(r, 200)} belongs to person_id {shown(person_of[r], 200)}, "
                    f"not {shown(p, 200)} ({int(n)} row(s))"
                    for (r, p), n in seen.head(5).items()
                )
                more = f"; and {len(seen) - 5} more" if len(seen) > 5 else ""
                problems = [
                    f"{int(other.sum())} row(s) name the referral of another person_id "
                    f"(referrals table): {examples}{more}"
                ]
                links[OTHER_PERSON] = (other, problems)
        if links:
            found[label] = links
    return found


SENSITIVE_FIELDS = ("unit_value", "deadweight", "attribution", "optimism_bias")


def _check_costs(cfg: EvaluationConfig) -> list[str]:
    """Benefit and sensitivity names that match nothing (cost lines that cannot be costed are
    found where they are costed, :func:`outcomes.report.inputs.load_inputs`)."""
    c = cfg.costs
    if c is None:
        return []
    problems = []
    names = [b.name for b in c.benefits]
    if len(set(names)) != len(names):
        problems.append(f"costs.benefits: names must be distinct, got {names}")
    for b in c.benefits:
        if b.price_year != c.price_year and not {b.price_year, c.price_year} <= set(c.price_index):
            problems.append(
                f"costs.benefits {b.name!r}: its price year {b.price_year} needs a price_index "
                f"for {b.price_year} and {c.price_year}"
            )
        if isinstance(b.quantity, list) and len(b.quantity) > c.years:
            problems.append(
                f"costs.benefits {b.name!r}: {len(b.quantity)} years of quantities, but "
                f"costs.years is {c.years}"
            )
    allowed = ["total_cost", "discount_rate"] + [
        f"{n}.{f}" for n in names for f in SENSITIVE_FIELDS
    ]
    for key, (lo, hi) in c.sensitivity.items():
        if key not in allowed:
            problems.append(f"costs.sensitivity: {unknown('input', key, allowed)}")
        elif lo > hi:
            problems.append(f"costs.sensitivity {key!r}: low {lo} is above high {hi}")
    return problems


def check_names(cfg: EvaluationConfig, raw: dict[str, pd.DataFrame]) -> list[str]:
    """Every name in the config that matches nothing in the data, as problem messages.

    ``raw`` holds the tables as read (label -> DataFrame, labels as in
    :meth:`EvaluationConfig.input_files`).

    Example:
        >>> from outcomes.report.config import load_config
        >>> cfg = load_config({"programme": "P", "period": {"start": "2025-09-01",
        ...     "end": "2026-08-31"}, "tables": {"referrals": "r.csv"}, "subgroups": ["gendr"],
        ...     "service": {"inappropriate_reasons": ["not apropriate"]}})
        >>> ref = pd.DataFrame({"referral_id": [1, 2], "person_id": ["a", "b"],
        ...     "referral_date": ["2025-10-01"] * 2, "gender": ["f", "m"],
        ...     "accepted": [True, False], "not_accepted_reason": [None, "not appropriate"]})
        >>> for p in check_names(cfg, {"referrals": ref}):
        ...     print(p)
        subgroups: unknown column 'gendr'; did you mean 'gender'? (columns of the referrals table)
        service.inappropriate_reasons: unknown reason 'not apropriate'; did you mean 'not appropriate'? (reasons of the not-accepted referrals; leave out a reason no referral had)
    """
    problems = _check_columns(cfg, raw)
    if "referrals" in raw:
        problems += _check_reasons(cfg, raw["referrals"])
    for name in SURVEYS:
        if name in raw:
            problems += _check_waves(cfg, name, raw[name])
    for name, of in WAVES_OF.items():
        if name in raw:
            problems += _check_waves(cfg, of, raw[name], table=name)
    problems += _check_instruments(cfg, raw)
    problems += _check_schools(raw)
    problems += _check_costs(cfg)
    problems += _check_targets(cfg, raw)
    return problems
