"""environment.yml (conda) and pyproject.toml (pip) must list the same packages at the same versions."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    pins = {}
    for spec in specs:
        name, sep, version = spec.partition("==")
        assert sep, f"pyproject dependency not pinned exactly: {spec}"
        pins[name.strip().lower()] = version.strip()
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins = {}
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*={1,2}\s*([^\s=]+)", item)
            if m:
                pins[m.group(1).lower()] = m.group(2)
    pins.pop("python", None)
    return pins


def test_environment_matches_pyproject():
    assert _environment_pins() == _pyproject_pins()


def test_installed_versions_match_pins():
    from importlib.metadata import version

    for name, pinned in _pyproject_pins().items():
        assert version(name) == pinned, f"{name}: installed {version(name)}, pinned {pinned}"
