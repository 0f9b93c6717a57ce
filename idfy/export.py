"""Export a trained network: weights as safetensors, the whole graph as ONNX (checked against onnxruntime).

ONNX export first tries the TorchScript exporter (``dynamo=False``, fast); bicubic resizing with antialias
(the S1d injection) has no TorchScript symbolic, so such models go through the dynamo exporter
(``torch.export`` + onnxscript), which maps it to ONNX ``Resize`` with ``antialias=1`` (opset 18).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from idfy.config import ModelConfig

__all__ = ["export_onnx", "export_safetensors", "load_safetensors"]

ONNX_OPSET = 18


def export_safetensors(model: nn.Module, path: str | Path, cfg: ModelConfig | None = None,
                       classes: list[str] | None = None) -> Path:  # fmt: skip
    """Write the model's state dict to ``path`` (safetensors). The model config (YAML) and the class names
    go into the file's metadata, so :func:`load_safetensors` can rebuild the network."""
    import json

    from safetensors.torch import save_file

    cfg = cfg or getattr(model, "cfg", None)
    meta = {"format": "idfy"}
    if cfg is not None:
        meta["config"] = cfg.to_yaml()
    if classes is not None:
        meta["classes"] = json.dumps(list(classes))
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=meta)
    return path


def load_safetensors(path: str | Path) -> tuple[nn.Module, list[str] | None]:
    """Rebuild a network written by :func:`export_safetensors` -> (model in eval mode, class names or None)."""
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file

    from idfy.model import build_model

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if "config" not in meta:
        raise ValueError(f"{path}: no idfy model config in the safetensors metadata")
    model = build_model(ModelConfig.from_yaml(meta["config"]))
    model.load_state_dict(load_file(str(path)))
    classes = json.loads(meta["classes"]) if "classes" in meta else None
    return model.eval(), classes


def export_onnx(
    model: nn.Module,
    path: str | Path,
    size: int | tuple[int, int] | None = None,
    *,
    channels: int | None = None,
    batch: int = 2,
    check: bool = True,
) -> dict[str, Any]:
    """Export ``model`` (input (B, C, H, W) in [0, 1], dynamic batch) to ONNX and compare with onnxruntime.

    Args:
        size: input (H, W) or side; default: the model config's input size.
        channels: input channels; default: the config's.
        batch: batch of the random test input used for tracing and the parity check.
        check: run the parity check (needs ``onnxruntime``).

    Returns:
        ``{"path", "exporter" ("torchscript" | "dynamo"), "opset", "seconds", "max_abs_diff" (None without
        check), "input_shape"}``.
    """
    cfg: ModelConfig | None = getattr(model, "cfg", None)
    if size is None:
        if cfg is None:
            raise ValueError("give size= for a model without an idfy config")
        size = tuple(cfg.input.size)
    hw = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    c = channels or (cfg.input.channels if cfg is not None else 3)
    model = model.eval().cpu()
    x = torch.rand(batch, c, *hw, generator=torch.Generator().manual_seed(0))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    exporter = _export(model, x, path)
    result: dict[str, Any] = {
        "path": str(path),
        "exporter": exporter,
        "opset": ONNX_OPSET,
        "seconds": time.perf_counter() - t0,
        "max_abs_diff": None,
        "input_shape": [batch, c, *hw],
    }
    if check:
        import onnxruntime as ort

        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        # a different batch size than the traced one checks the dynamic batch axis too
        x2 = torch.rand(batch + 1, c, *hw, generator=torch.Generator().manual_seed(1))
        diffs = []
        for inp in (x, x2):
            with torch.no_grad():
                ref = model(inp).numpy()
            got = sess.run(None, {sess.get_inputs()[0].name: inp.numpy()})[0]
            diffs.append(float(abs(got - ref).max()))
        result["max_abs_diff"] = max(diffs)
    return result


class _Skip(Exception):
    pass


@contextlib.contextmanager
def _silence_fds() -> Iterator[None]:
    """Silence stdout/stderr at the file-descriptor level (the TorchScript exporter dumps graphs from C++)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _needs_dynamo(model: nn.Module) -> bool:
    """True when the model re-injects the image: antialiased resizes have no TorchScript symbolic and
    ``area`` resizing to a traced size fails there too."""
    from idfy.layers import ImageInjection

    return any(isinstance(m, ImageInjection) for m in model.modules())


def _export(model: nn.Module, x: torch.Tensor, path: Path) -> str:
    """Export with the TorchScript exporter, falling back to dynamo; returns the exporter used."""
    first: Exception | str = "skipped: image re-injection (resize) has no TorchScript symbolic"
    try:
        if _needs_dynamo(model):
            raise _Skip
        with warnings.catch_warnings(), _silence_fds():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (x,),
                str(path),
                dynamo=False,
                input_names=["image"],
                output_names=["output"],
                dynamic_axes={"image": {0: "batch"}, "output": {0: "batch"}},
                opset_version=ONNX_OPSET,
            )
        return "torchscript"
    except _Skip:
        pass
    except Exception as e:  # UnsupportedOperatorError and other symbolic gaps
        first = e
    batch = torch.export.Dim("batch", min=1, max=4096)
    quiet = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                model,
                (x,),
                dynamo=True,
                input_names=["image"],
                output_names=["output"],
                dynamic_shapes=({0: batch},),
                opset_version=ONNX_OPSET,
            )
            program.save(str(path))
    except Exception as e:
        raise ValueError(
            f"ONNX export failed: TorchScript exporter: {first}; dynamo exporter: {type(e).__name__}: {e}"
        ) from e
    return "dynamo"
