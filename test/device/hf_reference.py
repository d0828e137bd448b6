#!/usr/bin/env python3
"""Runs transformers' own Qwen3.5 on the folder `hfReference.ts prepare` wrote.

For each variant folder (checkpoint/, input_ids.npy, position_ids.npy, logits_ours.npy) it
loads checkpoint/ with Qwen3_5ForConditionalGeneration in float32 (CUDA when available, else
CPU), runs input_ids with the given 3-D position_ids (no pixels: the text decoder alone) and
writes logits_hf.npy beside ours, printing max |dlogit| against ours. A variant that fails
gets error_hf.txt and the run goes on. Needs torch, transformers (with Qwen3.5), numpy,
safetensors; no network.

    python3 hf_reference.py FOLDER
"""
import json
import sys
import traceback
from pathlib import Path

TOLERANCE = 1e-3


def run_variant(folder: Path, torch, numpy, model_class, device: str) -> tuple[str, bool]:
    checkpoint = folder / "checkpoint"
    input_ids = torch.from_numpy(numpy.load(folder / "input_ids.npy")).to(device)
    position_ids = torch.from_numpy(numpy.load(folder / "position_ids.npy")).to(device)
    if input_ids.ndim != 2 or position_ids.shape != (3, 1, input_ids.shape[1]):
        raise ValueError(f"input_ids {tuple(input_ids.shape)} / position_ids {tuple(position_ids.shape)}: expected [1, S] and [3, 1, S]")
    loaded = model_class.from_pretrained(
        checkpoint, dtype=torch.float32, attn_implementation="eager", output_loading_info=True, local_files_only=True
    )
    model, info = loaded if isinstance(loaded, tuple) else (loaded, {})
    # A weight transformers did not find would be random: that is a failed check, not a result.
    missing = [key for key in info.get("missing_keys", []) if key != "lm_head.weight"]
    if missing or info.get("mismatched_keys"):
        raise ValueError(f"missing weights {missing}, mismatched {info.get('mismatched_keys')}")
    unexpected = info.get("unexpected_keys", [])
    model = model.to(device).eval()
    with torch.no_grad():
        logits = model(input_ids=input_ids, position_ids=position_ids, use_cache=False).logits
    logits = logits.float().cpu().numpy()
    numpy.save(folder / "logits_hf.npy", logits)
    ours = numpy.load(folder / "logits_ours.npy")
    if ours.shape != logits.shape:
        return f"logits shape {logits.shape}, ours {ours.shape}  FAIL", False
    diff = float(numpy.abs(ours - logits).max())
    agrees = bool((ours.argmax(-1) == logits.argmax(-1)).all())
    ok = diff <= TOLERANCE and agrees
    extra = f"  (weights transformers did not use: {sorted(unexpected)})" if unexpected else ""
    return f"max |dlogit| {diff:.2e}  argmax {'agrees' if agrees else 'differs'}  {'ok' if ok else 'FAIL'}{extra}", ok


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python3 hf_reference.py FOLDER  (written by: node --import tsx test/device/hfReference.ts prepare FOLDER)")
        return 2
    root = Path(sys.argv[1])
    manifest = root / "variants.json"
    if not manifest.is_file():
        print(f"{manifest}: missing (is {root} a folder written by hfReference.ts prepare?)")
        return 2
    try:
        import numpy
        import torch
        import transformers
        from transformers import Qwen3_5ForConditionalGeneration
    except ImportError as error:
        print(f"cannot import what this needs (torch, numpy, transformers with Qwen3.5): {error}")
        return 2
    # Plain float32 everywhere: no TF32 in matmuls or cuDNN convolutions (the DeltaNet conv).
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, device {device}")
    failed = 0
    for variant in json.loads(manifest.read_text())["variants"]:
        name = variant["name"]
        folder = root / name
        (folder / "error_hf.txt").unlink(missing_ok=True)
        (folder / "logits_hf.npy").unlink(missing_ok=True)
        try:
            line, ok = run_variant(folder, torch, numpy, Qwen3_5ForConditionalGeneration, device)
        except Exception as error:  # one variant's failure must not hide the others' results
            (folder / "error_hf.txt").write_text(traceback.format_exc())
            line, ok = f"ERROR {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", False
        failed += not ok
        print(f"{name:16} {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
