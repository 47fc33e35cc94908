"""Notebooks cannot be committed with outputs: a git clean filter strips them (registered by make)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_are_stripped_by_the_git_filter():
    assert "*.ipynb filter=nbstrip" in (ROOT / ".gitattributes").read_text(encoding="utf-8")
    nb = {"cells": [{"cell_type": "code", "source": "1", "metadata": {}, "execution_count": 7,
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out = subprocess.run([sys.executable, str(ROOT / ".githooks" / "strip_outputs.py")], input=json.dumps(nb),
                         capture_output=True, text=True, check=True).stdout
    cell = json.loads(out)["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None and cell["source"] == "1"
    assert "filter.nbstrip.clean" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_committed_notebooks_have_no_outputs():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        dirty = [c for c in nb["cells"] if c.get("outputs") or c.get("execution_count")]
        assert not dirty, f"{path.name}: {len(dirty)} cells with outputs"
