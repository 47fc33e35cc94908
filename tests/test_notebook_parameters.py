"""papermill reads every line of every notebook's parameters cell (a line it cannot parse prints
'Unable to parse line …' on every batch run and its parameter is missing from `--help-notebook`)."""
import logging
from pathlib import Path

import papermill
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_papermill_parses_every_parameter_line(path, caplog):
    with caplog.at_level(logging.WARNING):
        found = papermill.inspect_notebook(str(path))
    assert not [r.getMessage() for r in caplog.records if "Unable to parse" in r.getMessage()]
    assert {"sheet", "encoding", "output_dir"} <= set(found)
