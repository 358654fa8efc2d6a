"""Turn a training checkpoint into the application's .safetensors weights.

    python -m training.export --checkpoint runs/bins/checkpoint.pt \
        --out colorize_app/weights/colorizer.safetensors --metrics runs/eval/summary.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from colorize_app.core.model import ColorizerNet, ModelConfig
from colorize_app.core.weights import save_weights

from .checkpoint import load_checkpoint


def export(checkpoint: Path, out: Path, *, temperature: float | None = None, chroma_gain: float | None = None,
           blend: float | None = None, metrics: dict | None = None, name: str | None = None,
           raw: bool = False, half: bool = False) -> Path:
    """Write the weights and a metadata summary (config, data, steps, recipe, metrics) to ``out``.

    A run that kept a moving average of its weights (``--ema``) exports the average unless ``raw``.
    """
    state = load_checkpoint(checkpoint)
    config = ModelConfig.from_dict(state["config"])
    if temperature is not None:
        config = dataclasses.replace(config, temperature=temperature)
    if chroma_gain is not None:
        config = dataclasses.replace(config, chroma_gain=chroma_gain)
    if blend is not None:
        config = dataclasses.replace(config, blend=blend)
    model = ColorizerNet(config)
    use_ema = "ema" in state and not raw
    model.load_state_dict(state["ema"] if use_ema else state["model"])
    args = state["args"]
    data = args.get("data") or []
    summary = {
        "name": name or Path(out).stem,
        "loss": args.get("loss"),
        "steps": state["step"],
        "batch_size": args.get("batch_size"),
        "images_seen": state["step"] * args.get("batch_size", 0),
        "data": {"folders": [Path(d).name for d in (data if isinstance(data, list) else [data])],
                 "photos": state.get("photos")},
        "recipe": {k: args.get(k) for k in ("lr", "weight_decay", "warmup", "crop_schedule", "cache_size", "seed",
                                            "bf16", "hints", "degrade", "ema", "balance", "hue_weight", "hue_angle",
                                            "neutral_weight", "vivid_weight", "de00_weight", "imagenet_encoder",
                                            "min_crop_scale", "hint_share", "hint_attention_lr", "semantic_lr",
                                            "fusion_lr", "body_lr")}
        | {"init": Path(args["init"]).name if args.get("init") else None},
        "weights": "moving average" if use_ema else "last step",
        "metrics": metrics or {},
    }
    return save_weights(out, model, metadata=summary, half=half)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--temperature", type=float, help="annealed-mean temperature to bake in (bins head)")
    p.add_argument("--chroma-gain", type=float, help="colour calibration gain to bake in (see the model card)")
    p.add_argument("--blend", type=float, help="dual head: share of the bins' annealed mean to bake in")
    p.add_argument("--metrics", type=Path, help="a summary.json from training.evaluate to record")
    p.add_argument("--name", help="a human name for the model, shown in the window")
    p.add_argument("--raw", action="store_true", help="export the last step's weights, not their moving average")
    p.add_argument("--half", action="store_true", help="float16 tensors: half the size, for moving a model "
                                                       "between machines (loading widens them again)")
    args = p.parse_args(argv)
    metrics = json.loads(args.metrics.read_text()) if args.metrics else None
    path = export(args.checkpoint, args.out, temperature=args.temperature, chroma_gain=args.chroma_gain, blend=args.blend,
                  metrics=metrics, name=args.name, raw=args.raw, half=args.half)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
