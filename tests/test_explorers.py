"""The JupyterLab explorers, driven through their widget callbacks inside a real kernel (nbclient plays the
frontend of the Output widget): every value change must leave a complete figure (a blank or clipped chart after a
dropdown change was a bug)."""
from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.notebook

SETUP = '''
import json
from loyaltylab import plots
from loyaltylab.analyses import nps
plots.set_theme()
result = nps.analyze(nps.Params(survey_path=SURVEY, customers_path=CUSTOMERS))
panel = nps.explorer(result)
group, per, sub = panel.children[0].children
out = panel.children[1]
'''
CHECK = '''print("LOG" + json.dumps([sum(1 for o in out.outputs if "image/png" in o.get("data", {})),
                            " ".join(str(o.get("data", {})) for o in out.outputs)]))'''
CHANGES = ['group.value = "region"', 'per.value = "Y"',
           'sub.value = next(v for v in sub.options if v.endswith("Premium"))']


def test_nps_explorer_redraws_complete_figures_on_every_change(small_course_dir, tmp_path):
    setup = (f"SURVEY = {str(small_course_dir / 'survey.csv')!r}\n"
             f"CUSTOMERS = {str(small_course_dir / 'customers.csv')!r}\n" + SETUP)
    cells = [setup, CHECK]
    for change in CHANGES:
        cells += [change, CHECK]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    logs = []
    for cell in nb.cells[1::2]:
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        logs.append(json.loads(text.split("LOG", 1)[1]))
    for (images, text), change in zip(logs, ["start", *CHANGES]):
        assert images == 2, (change, images)  # the segment forest plot and the trend, both drawn
        assert "NPS" in text, change
    assert "region" in logs[1][1] and "Premium" in logs[3][1]
