"""``curate synth``: simulated metrics for videos with none, and counts for authors never observed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from curate.context import Context
from curate.output import console, key_value_table, print_json

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from synth import Preset

DEFAULTS = {"preset": "seed-000", "seed": 0, "calibrate": False, "planted_signal": False, "reference_date": None}


def _option(context: Context, key: str, given: Any) -> Any:
    """The command line's value, else the config file's ``[synth]`` value, else the default."""
    return given if given is not None else context.settings.section("synth").get(key, DEFAULTS[key])


def synth(
    ctx: typer.Context,
    preset: str | None = typer.Option(None, "--preset", help="seed-000 (annex A.2 of seed 000, default) or viral-vision (seed 001's quartiles)."),
    calibrate: bool | None = typer.Option(None, "--calibrate/--no-calibrate", help="Fit log-normal marginals and their correlation to the catalog's observed videos instead of using the preset's."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed; the same seed gives the same values. Default 0."),
    planted_signal: bool | None = typer.Option(None, "--planted-signal/--no-planted-signal", help="Let category, music and duration shift engagement and store the true latent score."),
    reference_date: str | None = typer.Option(None, "--reference-date", help="'Now' for account ages and video dates (YYYY-MM-DD). Default: the preset's, so runs are reproducible."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Simulate metrics for videos that have no observed ones, and counts for authors never observed.

    Writes simulated metric observations (provenance 'simulated', with the
    simulator's name, version, seed and parameter hash) only for videos without
    any observation, and followers, following and account creation only where
    nothing was observed. Deterministic for a seed; running it twice adds nothing.

    Example:  curate synth --preset viral-vision --seed 1 --json
    """
    context: Context = ctx.obj
    counts = run_synth(
        context.engine,
        preset_name=_option(context, "preset", preset),
        calibrated=bool(_option(context, "calibrate", calibrate)),
        seed=int(_option(context, "seed", seed)),
        planted=bool(_option(context, "planted_signal", planted_signal)),
        reference_date=_option(context, "reference_date", reference_date),
        quiet=as_json,
    )
    if as_json:
        print_json(counts)
        return
    from curate.output import flatten

    shown = [(k, ("yes" if v else "no") if isinstance(v, bool) else v)
             for k, v in flatten("", {k: v for k, v in counts.items() if k != "params_hash"})]
    console.print(key_value_table("synth", shown))
    console.print(f"params hash {counts['params_hash']}", highlight=False)


def choose_preset(engine: Engine, name: str, calibrated: bool, reference_date: str | None) -> Preset:
    """The named preset, or one fitted to the catalog's observed videos; with the reference date applied."""
    import synth
    from synth.simulator import utc_timestamp

    chosen = synth.get_preset(name)
    if calibrated:
        from db.dataset import load_video_frame

        frame = load_video_frame(engine)
        chosen = synth.calibrate(frame[frame["provenance"] == "observed"], base=chosen)
    if reference_date:
        utc_timestamp(reference_date, chosen.reference_date)  # a clean error for a bad date
        chosen = chosen.with_reference_date(reference_date)
    return chosen


def run_synth(engine: Engine, preset_name: str, calibrated: bool, seed: int, planted: bool,
              reference_date: str | None, quiet: bool = False) -> dict[str, Any]:
    """Simulates and stores authors first, then videos (whose inputs are the authors' now-complete values)."""
    import synth
    from db.dataset import count_inconsistent_creation, load_simulation_targets, write_simulated_authors, write_simulated_videos

    preset = choose_preset(engine, preset_name, calibrated, reference_date)
    simulation = {"simulator": synth.SIMULATOR_NAME, "simulator_version": synth.SIMULATOR_VERSION, "sim_seed": seed,
                  "params_hash": preset.params_hash(), "preset": preset.name, "planted_signal": planted}
    authors, _ = load_simulation_targets(engine)
    drawn = synth.simulate_authors(authors["author_id"], preset, seed, not_after=authors["first_video"]).join(
        authors[["needs_stats", "needs_created"]])
    before_first = int((authors["needs_created"] & authors["first_video"].notna()).sum())
    with _progress(quiet) as advance:
        author_counts = write_simulated_authors(engine, drawn, {**simulation, "preset_params": preset.to_dict()}, advance)
        _, videos = load_simulation_targets(engine)
        draws = synth.simulate_videos(videos, preset, seed, planted_signal=planted)
        draws["create_time_missing"] = videos["create_time"].isna().to_numpy()
        video_counts = write_simulated_videos(engine, draws, simulation, source=f"synth:{preset.name}", progress=advance)
    return {
        "preset": preset.name, "seed": seed, "planted_signal": planted, "params_hash": simulation["params_hash"],
        "videos_simulated": video_counts["observations"], "video_create_times": video_counts["create_times"],
        "video_categories": video_counts["categories"], "author_counts": author_counts["stats"],
        "author_creation_dates": author_counts["created"],
        "author_creation_dates_bounded_by_first_video": before_first,
        "could_not_use": count_inconsistent_creation(engine),
    }


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int], None]]:
    """A rich progress bar of rows written; a no-op when printing JSON."""
    if quiet:
        yield lambda n: None
        return
    from rich.progress import Progress

    with Progress(transient=True, console=console) as bar:
        task = bar.add_task("writing simulated rows", total=None)
        yield lambda n: bar.advance(task, n)


def register(app: typer.Typer) -> None:
    """Adds the commands to ``app``."""
    app.command()(synth)
