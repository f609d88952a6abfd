"""`metrics-layer experiment`: the A/B readout of an `experiments:` definition.

The readout table goes to stdout in the chosen format; the sample-ratio check and the count of
entities dropped for having seen two arms follow it (on stderr for csv/json, so the data stays
machine-readable). An SRM p-value below 0.001 is flagged as a warning.
"""

from __future__ import annotations

from pathlib import Path

import typer

from metrics_layer.cli.common import (
    ConnOpt,
    FormatOpt,
    PathArg,
    TzOpt,
    VarOpt,
    _layer,
    app,
    emit,
    run,
)


@app.command()
def experiment(
    path: Path = PathArg,
    name: str = typer.Argument(..., help="Experiment name"),
    metric: list[str] | None = typer.Option(
        None, "--metric", "-m", help="Metric to read out (repeatable; default: the definition's)"
    ),
    start: str | None = typer.Option(None, "--start", help="First exposure time (inclusive)"),
    end: str | None = typer.Option(None, "--end", help="Last exposure time (exclusive)"),
    cuped: str | None = typer.Option(
        None, "--cuped", help="CUPED lookback ('14 days'), or 'off'; default: the definition's"
    ),
    absolute: bool = typer.Option(
        False, "--absolute", help="Differences instead of relative lifts"
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level (CI at 1 - alpha)"),
    connection: str | None = ConnOpt,
    format: str = FormatOpt,
    var: list[str] | None = VarOpt,
    timezone: str = TzOpt,
) -> None:
    """A/B readout: lift, CI and p-value per metric and arm, with the SRM check."""

    def body() -> None:
        layer = _layer(path, connection, var, timezone)
        choice: object = None
        if cuped is not None:
            choice = (
                False
                if cuped.strip().lower() in ("off", "false", "no", "none")
                else {"lookback": cuped}
            )
        res = layer.experiment(
            name,
            start=start,
            end=end,
            metrics=metric or None,
            alpha=alpha,
            relative=not absolute,
            cuped=choice,
        )
        df = res.to_pandas()
        srm = res.srm
        if format == "table":
            df["p_value"] = [f"{p:.3g}" for p in df["p_value"]]
        emit(df, format, f"experiment {name}")
        units = ", ".join(f"{arm} {n:,}" for arm, n in srm.units.items())
        note = f"SRM p = {srm.p_value:.4g} (units: {units}); multiple exposures dropped: {res.multiple_exposures:,}"
        err = format != "table"
        typer.echo(note, err=err)
        if srm.mismatch:
            typer.echo(
                "warning: sample ratio mismatch (p < 0.001): the split does not match the "
                "weights; do not trust these lifts",
                err=err,
            )

    run(body)
