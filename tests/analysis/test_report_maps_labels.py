"""Report maps label grids as the page names them: the code with the planner's name."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.report.maps import grid_labels


def test_grid_labels_carry_the_names_planners_give_cleaned_and_short():
    grids = pd.DataFrame({"grid_id": ["C01-01", "C01-02", "C01-03", "C01-04", "C01-05"],
                          "name": ["北区", "", None, np.nan, "东\n区 <b>很长很长很长很长的名字</b>"]})
    labels = grid_labels(grids)
    assert labels[:4] == ["C01-01 北区", "C01-02", "C01-03", "C01-04"]
    assert labels[4].startswith("C01-05 东 区") and "\n" not in labels[4]
    assert len(labels[4]) <= len("C01-05 ") + 12 and labels[4].endswith("…")
    # a name equal to the code is not written twice; no name column: codes only
    assert grid_labels(pd.DataFrame({"grid_id": ["C02-01"], "name": ["C02-01"]})) == ["C02-01"]
    assert grid_labels(pd.DataFrame({"grid_id": ["C02-01"]})) == ["C02-01"]
