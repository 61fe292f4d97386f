"""setup.cfg's version ranges resolve on their own, and constraints.txt pins a set inside them."""

import configparser
import json
import pathlib
import subprocess
import sys
import warnings

import pytest
from packaging.requirements import Requirement

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _requirements():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"].strip().splitlines()
    lines += config["options.extras_require"]["dev"].strip().splitlines()
    return {Requirement(line).name: Requirement(line) for line in lines}


def _constraints():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    return pins


def test_every_requirement_has_a_range_and_a_pin_inside_it():
    requirements, pins = _requirements(), _constraints()
    assert set(requirements) <= set(pins), set(requirements) - set(pins)
    for name, requirement in requirements.items():
        assert requirement.specifier, f"{name} has no version range"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement.specifier}"


@pytest.mark.slow
def test_ranges_alone_resolve(tmp_path):
    # What a user's `pip install tfcdr` resolves without constraints.txt (nothing installed is
    # reused). CI then tests the constraints' set; a newer release inside a range is named here.
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            report,
            ROOT,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    resolved = {
        item["metadata"]["name"].lower(): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    requirements, pins = _requirements(), _constraints()
    for name, requirement in requirements.items():
        if name in ("pytest", "ruff"):
            continue
        assert requirement.specifier.contains(resolved[name]), (name, resolved[name])
        if resolved[name] != pins[name]:
            warnings.warn(f"{name} resolves to {resolved[name]}, CI tests {pins[name]}", stacklevel=1)
