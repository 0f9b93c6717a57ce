"""idfy.evidence reads only the results folder it is given (the library never finds benchmarks/ itself)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from idfy.evidence import load_ablations, load_long_runs, load_model_results, results_folder


def test_no_folder_reads_as_nothing_committed() -> None:
    assert load_model_results(None) is None
    assert load_ablations(None) == [] and load_long_runs(None) == []


def test_the_folder_given_is_the_one_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDFY_RESULTS", raising=False)
    assert results_folder(tmp_path) is None  # no benchmarks/results under it
    root = tmp_path / "benchmarks" / "results"
    root.mkdir(parents=True)
    (root / "models.json").write_text(json.dumps({"rows": [{"model": "m"}]}))
    assert results_folder(tmp_path) == root
    assert load_model_results(root) == {"rows": [{"model": "m"}]}
    monkeypatch.setenv("IDFY_RESULTS", str(tmp_path))
    assert results_folder("/nonexistent") == tmp_path


def test_readers_need_the_folder() -> None:
    with pytest.raises(TypeError):
        load_model_results()  # type: ignore[call-arg]
