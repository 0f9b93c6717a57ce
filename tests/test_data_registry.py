"""make_dataset / list_datasets and the package surface (idfy.data)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import idfy.data
from idfy.data import describe_datasets, list_datasets, make_dataset


def test_list_and_describe() -> None:
    names = list_datasets()
    assert names[:3] == ["shapes", "fashion-canvas", "fashion-mnist"]
    assert set(describe_datasets()) == set(names)


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as info:
        make_dataset("imagenet-22k")
    msg = str(info.value)
    for name in list_datasets():
        assert name in msg
    assert "csv:" in msg and ".csv" in msg


def test_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="channels"):
        make_dataset("shapes", n=2, channels=2)
    with pytest.raises(ValueError, match="n must be"):
        make_dataset("shapes", n=0)
    with pytest.raises(FileNotFoundError):
        make_dataset(f"csv:{tmp_path / 'missing.csv'}")


def test_shapes_through_the_registry() -> None:
    ds = make_dataset("shapes", split="test", size=32, n=12, seed=3, channels=1)
    assert ds.images.shape == (12, 1, 32, 32) and ds.task == "localize" and ds.boxes.shape == (12, 4)
    assert ds.name == "shapes/test"


def test_relative_user_path_under_data_dir(tmp_path: Path) -> None:
    from PIL import Image

    for cls in ("a", "b"):
        (tmp_path / "mine" / cls).mkdir(parents=True)
        Image.new("RGB", (10, 10), (1, 2, 3)).save(tmp_path / "mine" / cls / "x.png")
    ds = make_dataset("mine", split="all", size=8, data_dir=tmp_path)
    assert len(ds) == 2 and ds.classes == ["a", "b"]


def test_public_api_is_exported() -> None:
    for name in idfy.data.__all__:
        assert hasattr(idfy.data, name), name
    for name in ("ImageSet", "iterate_batches", "load_image", "ImageError", "make_dataset", "list_datasets"):
        assert name in idfy.data.__all__


def test_import_does_no_work_and_never_imports_gradio() -> None:
    code = (
        "import sys, idfy.data.base, idfy.data.images, idfy.data.shapes, idfy.data.fashion, "
        "idfy.data.formats, idfy.data.registry; import idfy.data; "
        "assert 'gradio' not in sys.modules, 'gradio imported'; "
        "assert not idfy.data.fashion._load_pair.cache_info().currsize"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
