"""Every analysis, registered by name. The contract test (tests/test_contract.py) runs over all of them.

An analysis is a package ``loyaltylab.analyses.<name>`` with the same files (see docs/adding-an-analysis.md):

- ``__init__.py``: ``__all__`` — what a notebook uses;
- ``analysis.py``: ``Params`` (a frozen :class:`loyaltylab.params.Params`), the frozen result (an
  :class:`~loyaltylab.analyses.base.AnalysisResult`), ``analyze(params) -> result``, ``NOTEBOOK``,
  ``NOTEBOOK_ONLY`` (parameters the notebook has beyond ``Params``) and ``example_parameters(files)``
  (the parameters for a tiny user-shaped data set, used by the contract test);
- ``describe.py`` (sentences), ``plots.py`` (``plot_x(result, ax=None)``), ``explorer.py`` (widgets);
- one file per estimator family.
"""
from __future__ import annotations

import importlib
from types import ModuleType

ANALYSES: tuple[str, ...] = ("overview", "nps", "servqual", "drivers", "churn", "clv", "dual_proactivity")


def get(name: str) -> ModuleType:
    """The ``analysis`` module of a registered analysis."""
    if name not in ANALYSES:
        raise KeyError(f"unknown analysis {name!r}; registered: {', '.join(ANALYSES)}")
    return importlib.import_module(f"loyaltylab.analyses.{name}.analysis")
