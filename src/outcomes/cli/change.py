"""``outcomes change``: pair baseline and follow-up scores, test the change, count reliable change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from .. import io as oc_io
from ..change.paired import _fmt, paired_change_table
from ..change.pairing import pair_waves
from ..change.reliable import reliable_change, reliable_change_summary
from ..errors import OutcomesError
from ..instruments import load_instrument
from ._common import InstrumentOption, _fail, data_console, errors_option


def change_command(
    file: Path,
    instrument: str,
    rule: str = "first_last",
    target_days: float | None = None,
    window_days: float | None = None,
    baseline_wave: str | None = None,
    followup_wave: str | None = None,
    adjust: str = "holm",
    output: Path | None = None,
    pairs_output: Path | None = None,
    errors: str = "flag",
) -> None:
    """Pair baseline and follow-up scores, test the change per scale, count reliable change.

    Typer signature in :func:`change_cli` (``outcomes change``); this plain function does the work.
    ``errors`` is :func:`~outcomes.change.pairing.pair_waves`'s: ``"flag"`` leaves a series
    with a problem unpaired and prints why, ``"raise"`` stops, naming the problems.
    """
    import warnings

    from rich.table import Table
    from rich.text import Text

    console = data_console()
    inst = load_instrument(instrument)
    scores = oc_io.read_table(file)
    if "instrument" not in scores.columns:
        scores = scores.assign(instrument=inst.id)
    waves = {}
    if rule == "waves":
        col = scores.get("wave")
        numeric = col is not None and pd.api.types.is_numeric_dtype(col)
        waves = {
            "baseline": float(baseline_wave)
            if numeric and baseline_wave is not None
            else baseline_wave,
            "followup": float(followup_wave)
            if numeric and followup_wave is not None
            else followup_wave,
        }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # A child referred twice has two episodes: pair within a referral when it is recorded.
        keys = ["instrument", "rater"] + (
            ["referral_id"] if "referral_id" in scores.columns else []
        )
        pairing = pair_waves(
            scores,
            scales=[s.id for s in inst.scales if s.id in scores.columns],
            rule=rule,
            target_days=target_days,
            window_days=window_days,
            keys=[k for k in keys if k in scores.columns],
            errors=errors,
            **waves,
        )
    console.print(pairing.summary(), soft_wrap=True)
    for w in caught:
        # markup off for the message itself: labels and file names may hold [brackets]
        console.print(Text(str(w.message), style="yellow"), soft_wrap=True)
    if pairing.pairs.empty:
        raise OutcomesError("no baseline/follow-up pairs were found")
    table = paired_change_table(pairing.pairs, adjust=adjust)
    frame = table.to_frame()
    show = Table(title=f"{inst.name}: change (post \u2212 pre), {adjust} adjusted")
    with_note = bool((frame["note"] != "").any())
    cols = [
        "scale",
        "n",
        "mean_pre",
        "mean_post",
        "mean_diff",
        "95% CI",
        "p",
        "p_adj",
        "d_z",
        "d_av",
    ]
    for c in cols + (["note"] if with_note else []):
        show.add_column(c, overflow="fold")
    for r in frame.itertuples(index=False):
        cells = [
            str(r.scale),
            str(r.n),
            _fmt(r.mean_pre),
            _fmt(r.mean_post),
            _fmt(r.mean_diff),
            f"{_fmt(r.ci_low)} to {_fmt(r.ci_high)}",
            _fmt(r.p, 3),
            _fmt(r.p_adj, 3),
            _fmt(r.d_z),
            _fmt(r.d_av),
        ]
        show.add_row(*cells, *([r.note] if with_note else []))
    console.print(show)
    rc_rows = []
    for sc in inst.scales:
        rc_def = sc.reliable_change
        usable = rc_def is not None and (rc_def.threshold or (rc_def.sd and rc_def.reliability))
        sub = pairing.pairs[pairing.pairs["scale"] == sc.id]
        if not usable or sub.empty:
            continue
        rc = reliable_change(sub["pre"], sub["post"], instrument=inst, scale=sc.id)
        m = reliable_change_summary(rc).to_frame().set_index("measure")
        rc_rows.append((sc.id, m))
    if rc_rows:
        rtab = Table(title="Reliable change (instrument thresholds)")
        for c in ("scale", "n", "recovered", "improved", "unchanged", "deteriorated"):
            rtab.add_column(c)
        for scale_id, m in rc_rows:
            cells = [
                f"{int(m.loc[c, 'count'])} ({100 * m.loc[c, 'proportion']:.0f}%)"
                for c in ("recovered", "improved", "unchanged", "deteriorated")
            ]
            rtab.add_row(scale_id, str(int(m.loc["unchanged", "denominator"])), *cells)
        console.print(rtab)
    if output is not None:
        oc_io.write_table(frame, output)
        console.print(f"Change table written to {output}")
    if pairs_output is not None:
        oc_io.write_table(pairing.pairs, pairs_output)
        console.print(f"Pairs written to {pairs_output}")


def change_cli(
    file: Annotated[
        Path,
        typer.Argument(help="Scores file (.csv, .xlsx, .parquet), e.g. from `outcomes score`."),
    ],
    instrument: InstrumentOption,
    rule: Annotated[
        str, typer.Option("--rule", help="first_last, nearest or waves.")
    ] = "first_last",
    target_days: Annotated[
        float | None,
        typer.Option("--target-days", help="nearest: follow-up target, days after baseline."),
    ] = None,
    window_days: Annotated[
        float | None,
        typer.Option("--window-days", help="nearest: accepted distance from the target."),
    ] = None,
    baseline_wave: Annotated[
        str | None, typer.Option("--baseline-wave", help="waves: baseline wave.")
    ] = None,
    followup_wave: Annotated[
        str | None, typer.Option("--followup-wave", help="waves: follow-up wave.")
    ] = None,
    adjust: Annotated[str, typer.Option("--adjust", help="holm, fdr_bh or bonferroni.")] = "holm",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the change table here.")
    ] = None,
    pairs_output: Annotated[
        Path | None, typer.Option("--pairs-output", help="Write the pairs here.")
    ] = None,
    flag: Annotated[
        bool,
        errors_option(
            "--flag: leave a series with a data problem unpaired and say why; "
            "--raise: stop, naming the problems."
        ),
    ] = True,
) -> None:
    """Pair baseline and follow-up scores, test the change per scale and count reliable change."""
    try:
        change_command(
            file,
            instrument,
            rule=rule,
            target_days=target_days,
            window_days=window_days,
            baseline_wave=baseline_wave,
            followup_wave=followup_wave,
            adjust=adjust,
            output=output,
            pairs_output=pairs_output,
            errors="flag" if flag else "raise",
        )
    except OutcomesError as err:
        # the one way commands report errors: markup off (file names may hold [brackets])
        _fail(str(err))
