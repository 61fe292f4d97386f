import json
import subprocess
import sys

import pytest

from tfcdr.cli import main as cli_main


def main(argv):
    """`tfcdr transfer ...`, as the trainer script runs it."""
    return cli_main(["transfer", *argv])


OPTIONS = json.dumps(
    {"synthetic": {"num_domains": 2, "num_users": 120, "num_items": 120, "interactions_per_user": [10, 6]}}
)


@pytest.mark.slow
def test_tiny_study_end_to_end_and_resumes(tmp_path, capsys):
    argv = [
        "--sources", "synthetic:source",
        "--targets", "synthetic:target",
        "--configs", "none,config-7",
        "--prediction", "with",
        "--dataset-options", OPTIONS,
        "--epochs", "1",
        "--embedding-dim", "4",
        "--hidden-units", "8,8,4,4",
        "--importance",
        "--output", str(tmp_path),
    ]  # fmt: skip
    assert main(argv) == 0
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    runs = [json.loads(line) for line in lines]
    assert sorted(r["label"] for r in runs) == ["config-7+pred", "none"]
    frozen = {r["label"]: r["frozen"] for r in runs}
    assert frozen == {"none": [], "config-7+pred": ["fc_4", "prediction"]}
    assert all(0.0 <= r["test"]["hr@10"] <= 1.0 and "hr@10" in r["valid"] for r in runs)
    report = (tmp_path / "transfer.md").read_text()
    for heading in ("## Source synthetic:source (frozen)", "## auto", "## Relatedness", "representation erasure"):
        assert heading in report
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == [
        "transfer_heatmap_synthetic_source_frozen.png",
        "transfer_importance.png",
        "transfer_kl_synthetic_source_frozen.png",
    ]
    assert "config-7+pred" in capsys.readouterr().out
    # Same settings again: every run is found in runs.jsonl, nothing is retrained;
    # --notes places a findings file right after the command.
    notes = tmp_path / "notes.md"
    notes.write_text("## Findings\n\nconfig-7 read off the tables.\n")
    assert main([a for a in argv if a != "--importance"] + ["--notes", str(notes)]) == 0
    assert (tmp_path / "runs.jsonl").read_text().splitlines() == lines
    report = (tmp_path / "transfer.md").read_text()
    assert report.index("```\n\n## Findings") < report.index("## Domains")
    assert main([*argv, "--notes", str(tmp_path / "missing.md")]) == 2
    assert "--notes: no such file" in capsys.readouterr().err


def test_building_the_command_line_does_not_import_tensorflow():
    # `tfcdr --help` builds every subcommand's parser; it must stay instant.
    code = "import sys, tfcdr.transfer.command; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bad_configuration_fails_before_any_training(tmp_path, capsys):
    assert (
        main(
            [
                "--sources",
                "synthetic:source",
                "--targets",
                "synthetic:target",
                "--configs",
                "config-9",
                "--output",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "config-9" in capsys.readouterr().err
    assert not (tmp_path / "runs.jsonl").exists()
