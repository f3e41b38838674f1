"""``outcomes synth``: write a simulated programme (CSVs, data dictionary, ground truth).

The main command adds it with ``app.command("synth")(synth)``;
``python -m outcomes.cli.synth --seed 2026 --out DIR`` also runs it on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import OutcomesError
from ..synthetic.programme import simulate_programme
from ..synthetic.settings import DROPOUT_MECHANISMS


def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the tables to.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same data.")] = 0,
    schools: Annotated[int, typer.Option("--schools", help="Programme schools.")] = 22,
    comparison_schools: Annotated[
        int, typer.Option("--comparison-schools", help="Secondary schools outside the programme.")
    ] = 0,
    waves: Annotated[
        str, typer.Option("--waves", help="School and staff survey waves, e.g. baseline,12m,24m.")
    ] = "baseline,12m",
    dropout: Annotated[
        str,
        typer.Option("--dropout", help=f"Follow-up mechanism: {', '.join(DROPOUT_MECHANISMS)}."),
    ] = "mar",
    follow_up_rate: Annotated[
        float, typer.Option("--follow-up-rate", help="Share of eligible children with follow-up.")
    ] = 0.55,
    truth_mc_size: Annotated[
        int,
        typer.Option("--truth-mc-size", help="Monte Carlo draws for the expected truth (0 skips)."),
    ] = 20_000,
    primary_survey: Annotated[
        bool,
        typer.Option(
            "--primary-survey",
            help="Also survey primary pupils in Years 4-6 (Stirling Children's Wellbeing Scale).",
        ),
    ] = False,
    mhst_measures: Annotated[
        bool,
        typer.Option(
            "--mhst-measures",
            help="Also record RCADS-25 (self 11+, parent 8-10) and, from 16, GAD-7 and PHQ-9.",
        ),
    ] = False,
    mhsds: Annotated[
        bool,
        typer.Option(
            "--mhsds",
            help="Also write the programme as an MHSDS extract (OUT/mhsds/<Table>.csv) for "
            "`outcomes nhs-metric`.",
        ),
    ] = False,
) -> None:
    """Simulate a school mental health programme with known ground truth and write it as CSV
    files with a data dictionary (datapackage.json, README.md) and truth.json."""
    try:
        data = simulate_programme(
            seed,
            n_schools=schools,
            n_comparison_schools=comparison_schools,
            survey_waves=waves,
            dropout=dropout,
            follow_up_rate=follow_up_rate,
            truth_mc_size=truth_mc_size,
            primary_survey=primary_survey,
            mhst_measures=mhst_measures,
        )
        path = data.write(out)
        if mhsds:
            from ..synthetic.mhsds import from_programme, write_extract

            extract = write_extract(from_programme(data), Path(path) / "mhsds", format="csv")
    except OutcomesError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(data.summary())
    typer.echo(
        f"Wrote {len(data.tables())} tables, datapackage.json, README.md and truth.json to {path}"
    )
    if mhsds:
        typer.echo(f"Wrote the MHSDS extract (the same children and scores) to {extract}")


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command()(synth)

if __name__ == "__main__":  # pragma: no cover
    app()
