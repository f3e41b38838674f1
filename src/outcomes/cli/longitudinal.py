"""``outcomes longitudinal``: mixed model, attrition and multiple imputation of repeated scores."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from .. import io as oc_io
from ..errors import OutcomesError
from ..longitudinal.attrition import attrition
from ..longitudinal.imputation import impute_change
from ..longitudinal.mixed import LongitudinalWarning, fit_mixed
from ._common import _fail, data_console


def longitudinal_cli(
    file: Annotated[Path, typer.Argument(help="Long table of scores (.csv, .xlsx, .parquet).")],
    outcome: Annotated[str, typer.Option("--outcome", "-y", help="Score column.")],
    wave: Annotated[str, typer.Option("--wave", help="Wave column.")] = "wave",
    child: Annotated[str, typer.Option("--child", help="Child id column.")] = "person_id",
    school: Annotated[
        str | None, typer.Option("--school", help="School id column (second random intercept).")
    ] = None,
    covariate: Annotated[
        list[str] | None, typer.Option("--covariate", help="Child-level covariate (repeatable).")
    ] = None,
    demographic: Annotated[
        list[str] | None,
        typer.Option("--demographic", help="Characteristic compared in attrition (repeatable)."),
    ] = None,
    waves: Annotated[
        str | None, typer.Option("--waves", help="Waves in time order, comma-separated.")
    ] = None,
    followup: Annotated[
        str | None, typer.Option("--followup", help="Follow-up wave (default: the last).")
    ] = None,
    impute: Annotated[
        bool, typer.Option("--impute/--no-impute", help="Multiple imputation sensitivity.")
    ] = True,
    m: Annotated[int, typer.Option("--m", help="Number of imputed datasets.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Random seed for the imputations.")] = 0,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder for the result tables (CSV).")
    ] = None,
) -> None:
    """Mixed model of repeated scores, attrition analysis and multiple imputation."""

    console = data_console()
    try:
        data = oc_io.read_table(file)
        numeric = wave in data and pd.api.types.is_numeric_dtype(data[wave].dtype)
        # Wave labels typed on the command line are text; match numeric wave columns.
        as_wave = (lambda w: pd.to_numeric(w.strip())) if numeric else (lambda w: w.strip())
        order = [as_wave(w) for w in waves.split(",")] if waves else None
        fu = as_wave(followup) if followup is not None else None
        covs = list(covariate or [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LongitudinalWarning)  # shown in the summaries
            res = fit_mixed(
                data, outcome, wave, person_id=child, cluster=school, covariates=covs, waves=order
            )
            att = attrition(
                data,
                outcome,
                wave,
                person_id=child,
                followup=fu,
                demographics=list(demographic or []),
                waves=order,
            )
            mi = (
                impute_change(
                    data,
                    outcome,
                    wave,
                    person_id=child,
                    followup=fu,
                    covariates=covs,
                    cluster=school,
                    waves=order,
                    m=m,
                    seed=seed,
                )
                if impute
                else None
            )
    except (OutcomesError, KeyError) as err:
        # the one way commands report errors: markup off (column names may hold [brackets])
        _fail(str(err))
    console.print(res.summary(), highlight=False, soft_wrap=True)
    console.print(att.summary(), highlight=False, soft_wrap=True)
    if mi is not None:
        console.print(mi.summary(), highlight=False, soft_wrap=True)
    if output is not None:
        tables = {
            "mixed_fixed_effects": res.to_frame(),
            "mixed_wave_means": res.wave_means(),
            "mixed_change": res.change(),
            "mixed_icc": res.icc(),
            "attrition_tests": att.to_frame(),
            "attrition_logistic": att.logistic,
        }
        if mi is not None:
            tables["imputation"] = mi.to_frame()
        for name, table in tables.items():
            oc_io.write_table(table, output / f"{name}.csv")
        console.print(f"Tables written to {output}")
