"""``python -m idfy export RUN_OR_CKPT --onnx out.onnx | --safetensors out.safetensors``."""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint",
        metavar="RUN_OR_CKPT",
        help="a run folder (its last.pt: the final weights; else best.pt) or a .pt file",
    )
    parser.add_argument("--onnx", metavar="PATH", help="write an ONNX graph (dynamic batch) and check it")
    parser.add_argument(
        "--safetensors", metavar="PATH", help="write the weights (config + classes in metadata)"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime parity check")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest accepted |ONNX - PyTorch|")


def run(args: argparse.Namespace) -> int:
    from idfy.export import export_onnx, export_safetensors
    from idfy.model import build_model
    from idfy.train.checkpoint import load_checkpoint, load_model_weights, model_config_of

    if not (args.onnx or args.safetensors):
        raise ValueError("say what to write: --onnx PATH and/or --safetensors PATH")
    ckpt = load_checkpoint(args.checkpoint, map_location="cpu")
    cfg = model_config_of(ckpt)
    model = build_model(cfg)
    load_model_weights(model, ckpt)  # one-line CheckpointError when the weights do not fit the design
    model.eval()
    code = 0
    if args.safetensors:
        path = export_safetensors(model, args.safetensors, cfg, classes=ckpt.get("classes"))
        print(f"safetensors: {path}")
    if args.onnx:
        r = export_onnx(model, args.onnx, check=not args.no_check)
        line = f"onnx: {r['path']} (exporter {r['exporter']}, opset {r['opset']}, {r['seconds']:.1f} s)"
        if r["max_abs_diff"] is not None:
            ok = r["max_abs_diff"] <= args.tolerance
            line += f" | parity vs onnxruntime: max |diff| = {r['max_abs_diff']:.2e} ({'ok' if ok else 'TOO LARGE'})"
            code = 0 if ok else 1
        print(line)
    return code
