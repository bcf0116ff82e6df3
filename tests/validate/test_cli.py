"""`relgraph validate` end to end on a small synthetic bank, and the errors a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from tests.banks import analysed_synthetic, copy_data
from tests.validate.conftest import make_store, write_truth

runner = CliRunner()


def _flat(output: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(output.split())


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 1,500-customer synthetic bank loaded and analysed (once for the run, the API tests'
    too): its files, truth included, and a copy of its data folder for this module."""
    bank, data = analysed_synthetic(tmp_path_factory, 1_500, 21)
    return bank, copy_data(data, tmp_path_factory.mktemp("validate-cli") / "data")


def test_validate_writes_the_report_plots_and_metrics(
    analysed: tuple[Path, Path], tmp_path: Path
) -> None:
    bank, data = analysed
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        ["validate", "--truth", str(bank / "truth"), "--data-dir", str(data), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    for name in ("report.md", "metrics.json", "aml_pr_curve.png", "aml_score_histogram.png"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics) == {
        "about", "identity", "households", "groups", "circles", "influencers", "aml",
    }  # fmt: skip
    assert {"data_fingerprint", "git_commit", "relgraph_version", "validated_at", "settings",
            "engine", "table_rows"} <= set(metrics["about"])  # fmt: skip
    assert metrics["about"]["table_rows"]["customers"] == 1500
    assert (
        metrics["about"]["settings"]["layering"]["score_threshold"] == metrics["aml"]["threshold"]
    )
    for key in ("precision", "recall", "f1", "split_clusters", "merged_clusters", "missing_ids"):
        assert key in metrics["identity"]
        assert key in metrics["households"]
    for key in ("recall", "recall_by_typology", "alert_precision", "precision_at_k",
                "average_precision", "background_fpr", "reliability", "other_thresholds"):  # fmt: skip
        assert key in metrics["aml"], key
    assert set(metrics["aml"]["recall_by_typology"]) <= {
        "layering_chain", "cycle", "scatter_gather", "fan_in", "fan_out",
    }  # fmt: skip
    assert 0 < metrics["identity"]["recall"] <= 1
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Transaction monitoring" in report
    assert "![aml_pr_curve.png]" in report
    flat = _flat(result.output)
    assert "pairwise recall" in flat
    assert "average precision (accounts)" in flat
    # Rich wraps long paths at any character: compare without white space.
    assert f"reportwrittento{out / 'report.md'}" in "".join(result.output.split())


def test_validate_without_a_truth_folder_fails_clearly(
    analysed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, data = analysed
    result = runner.invoke(
        app, ["validate", "--truth", str(tmp_path / "nope"), "--data-dir", str(data)]
    )
    assert result.exit_code == 2
    assert "truth folder" in _flat(result.output)
    assert "does not exist" in _flat(result.output)


def test_validate_with_an_empty_truth_folder_fails_clearly(
    analysed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, data = analysed
    result = runner.invoke(app, ["validate", "--truth", str(tmp_path), "--data-dir", str(data)])
    assert result.exit_code == 2
    assert f"no truth files in {tmp_path}" in _flat(result.output)


def test_validate_on_an_unanalysed_store_fails_clearly(tmp_path: Path) -> None:
    data = make_store(tmp_path / "data", [{"customer_id": "c1", "person_id": "P1"}], analysed=False)
    truth = write_truth(tmp_path / "truth", persons=[{"customer_id": "c1", "person_key": "A"}])
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["validate", "--truth", str(truth), "--data-dir", str(data), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "run `relgraph analyze` first" in _flat(result.output)
    assert not out.exists()
