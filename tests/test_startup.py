"""The `tfcdr` command's first line is its own, not TensorFlow's native start-up log."""

import os
import subprocess
import sys

import pytest

from tfcdr.models import MODELS


@pytest.mark.slow
def test_command_output_starts_with_tfcdr_lines():
    # A fresh interpreter: TensorFlow's native libraries print only when first loaded.
    script = "import sys; from tfcdr.cli import main; sys.exit(main(['models']))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[0].split()[0] == next(iter(MODELS))
