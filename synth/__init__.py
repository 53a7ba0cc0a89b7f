"""The metric simulator: presets, vectorised draws keyed by (seed, id), calibration, planted signal.

Pure functions over columns: no database, no network. ``curate synth`` wires it to
the catalog and the sandbox draws its synthetic world with it.
"""

from synth.calibrate import CalibrationError, calibrate
from synth.distributions import Marginal, Uniform
from synth.presets import (
    CATEGORIES,
    METRICS,
    PRESETS,
    AuthorModel,
    CopulaEngagement,
    PlantedSignal,
    Preset,
    RatioEngagement,
    get_preset,
)
from synth.simulator import SIMULATOR_NAME, SIMULATOR_VERSION, SimulationError, simulate_authors, simulate_videos

__all__ = [
    "CATEGORIES", "METRICS", "PRESETS", "SIMULATOR_NAME", "SIMULATOR_VERSION",
    "AuthorModel", "CalibrationError", "CopulaEngagement", "Marginal", "PlantedSignal", "Preset",
    "RatioEngagement", "SimulationError", "Uniform",
    "calibrate", "get_preset", "simulate_authors", "simulate_videos",
]
