"""The JupyterLab explorers, driven through their widget callbacks inside a real kernel (nbclient plays the
frontend of the Output widget): every value change must leave a complete figure (a blank or clipped chart after a
dropdown change was a bug)."""
from __future__ import annotations

import asyncio
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


class NudgingClient(NotebookClient):
    """nbclient that sends the kernel a ``kernel_info`` request every 2 s while a cell runs. ipykernel 7 can miss a
    shell request that arrives while it is sending a reply, and reads it only at the next message
    (ipython/ipykernel#1554). The widget traffic here makes that likely: the test then stalled until its
    600 s timeout in about half of the runs from a fresh clone. The replies to the nudges are not this cell's, and
    nbclient passes over them."""

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        async def nudge():
            while True:
                await asyncio.sleep(2)
                self.kc.kernel_info()

        nudging = asyncio.ensure_future(nudge())
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            nudging.cancel()


def test_nps_explorer_redraws_complete_figures_on_every_change(small_course_dir, tmp_path):
    setup = (f"SURVEY = {str(small_course_dir / 'survey.csv')!r}\n"
             f"CUSTOMERS = {str(small_course_dir / 'customers.csv')!r}\n" + SETUP)
    cells = [setup, CHECK]
    for change in CHANGES:
        cells += [change, CHECK]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NudgingClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    logs = []
    for cell in nb.cells[1::2]:
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        logs.append(json.loads(text.split("LOG", 1)[1]))
    for (images, text), change in zip(logs, ["start", *CHANGES]):
        assert images == 2, (change, images)  # the segment forest plot and the trend, both drawn
        assert "NPS" in text, change
    assert "region" in logs[1][1] and "Premium" in logs[3][1]
