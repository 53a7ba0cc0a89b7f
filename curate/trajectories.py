"""Labels over time in a snapshot: the wiring of the catalog's observations (db) and the trajectory labeler.

The observations are those as of the snapshot's cut-off, so a snapshot built at
two cut-offs carries what was known at each; ``viral_growth``'s threshold is
fitted on the rows it is given (the train split by default), like the others.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Engine


def trajectory_columns(engine: Engine, frame: pd.DataFrame, fit_mask, cutoff: datetime | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The trajectory label columns for ``frame``'s rows (in order) and their manifest entry."""
    from db.observations import load_trajectories
    from labeling.trajectory import TrajectoryLabeler

    labeler = TrajectoryLabeler()
    created = pd.Series(pd.to_datetime(frame["create_time"], utc=True).to_numpy(), index=frame["video_id"].astype(str))
    values = labeler.values(load_trajectories(engine, cutoff), created)
    fit_rows = values if fit_mask is None else values[pd.Series(fit_mask, index=values.index).to_numpy(dtype=bool)]
    params = labeler.fit(fit_rows)
    labels = labeler.apply(values, params).reset_index(drop=True)
    entry = {"spec": labeler.spec.to_dict(), "params": params, "definition": labeler.definition(),
             "defined": {c: int(labels[c].notna().sum()) for c in labels.columns}}
    return labels, entry


def with_columns(table: pa.Table, labels: pd.DataFrame) -> pa.Table:
    """``table`` with the trajectory columns appended (float64 values, a nullable bool flag)."""
    for name in labels.columns:
        kind = pa.bool_() if name == "viral_growth" else pa.float64()
        table = table.append_column(pa.field(name, kind), pa.Array.from_pandas(labels[name], type=kind))
    return table
