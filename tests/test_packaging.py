"""The project installs: presets ship inside the wheel, the CLI runs, the README example works."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_presets(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("idfy-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for preset in ("seed_model1", "seed_model2", "full", "small", "tiny"):
        assert f"idfy/_presets/{preset}.yaml" in names
    # every module and every static file of the source tree is in the wheel (a package left out of
    # pyproject's list would install an idfy that fails on import of that part)
    source = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "idfy").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    missing = sorted(source - set(names))
    assert not missing, f"not in the wheel: {missing}"


def test_cli_presets_lists_parameter_counts() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "idfy", "presets"], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    assert "seed_model2" in out and "4,848,437" in out


def test_cli_unknown_command_exits_2() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "idfy", "frobnicate"], capture_output=True, text=True, cwd=ROOT
    )
    assert res.returncode == 2 and "unknown command" in res.stderr


def test_readme_python_example_prints_seed_model2_stage_shapes() -> None:
    text = (ROOT / "README.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    assert "(8, 112, 112)" in out and "(16, 56, 56)" in out and "(24, 28, 28)" in out


def test_cli_output_into_a_closed_pipe_stops_quietly() -> None:
    # `python -m idfy presets | head -1`: once the reader has gone, no traceback, the Unix exit code of SIGPIPE
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        res = subprocess.run(
            [sys.executable, "-m", "idfy", "presets"], stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT
        )
    finally:
        os.close(write_end)
    assert res.returncode == 141 and b"Traceback" not in res.stderr, res.stderr.decode()[-400:]


def test_kept_import_paths_of_moved_modules() -> None:
    """Scripts written against the flat layout (``idfy.data.folders``, ``idfy.ui.predict_tab``) still import."""
    from idfy.data.folders import load_user_dataset
    from idfy.data.formats.loader import load_user_dataset as moved
    from idfy.ui.predict_tab import load_predictor
    from idfy.ui.tabs.predict.checkpoints import load_predictor as moved_predictor

    assert load_user_dataset is moved and load_predictor is moved_predictor
