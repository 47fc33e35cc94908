"""Every command the README shows (beyond `make`) runs verbatim from the project root and succeeds."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "telco_customer_churn.csv"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", "", block)
        commands += [line.strip() for line in joined.splitlines() if line.strip().startswith(".venv/bin/python")]
    return commands


def test_the_readme_shows_the_commands_it_promises():
    commands = readme_commands()
    assert any(" validate " in c for c in commands) and sum(" report --notebook " in c for c in commands) >= 2
    for c in commands:  # every file a command names ships with the project (or is the shared Telco export)
        for path in re.findall(r"(?:=|\s)((?:data|notebooks|\.\./shared)/[^\s',]+)", c):
            assert (ROOT / path).exists(), path


@pytest.mark.notebook
@pytest.mark.parametrize("command", readme_commands(), ids=lambda c: c.split(" -p ")[0][-40:])
def test_readme_command_runs_verbatim(command):
    if "../shared/" in command and not SHARED.exists():
        pytest.skip("the shared Telco export is not beside this checkout")
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
