"""Average two weights files in weight space (WiSE-FT, Wortsman et al. 2022; "model soups").

    python -m training.average FIRST SECOND --alpha 0.3 --out averaged.safetensors --name NAME \
        --metrics runs/eval/summary.json

Each floating-point tensor becomes (1 - alpha) * FIRST + alpha * SECOND; BatchNorm's counters and
any tensor FIRST lacks (a semantic branch the second model never had) are SECOND's. The two must be
the same network apart from such additions (SECOND's description is kept). A fine-tuned model
averaged with the one it started from often keeps more of what the start knew about photos unlike
the fine-tuning's: the third model's measurements in MODEL_CARD.md choose alpha on the foreign split.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from colorize_app.core.model import ColorizerNet
from colorize_app.core.weights import load_model, save_weights


def average(first: ColorizerNet, second: ColorizerNet, alpha: float) -> ColorizerNet:
    """``second`` with its weights replaced by the average (in place; also returned)."""
    ours, theirs = first.state_dict(), second.state_dict()
    for name, tensor in theirs.items():
        if name in ours and tensor.is_floating_point():
            if ours[name].shape != tensor.shape:
                raise ValueError(f"{name}: {tuple(ours[name].shape)} against {tuple(tensor.shape)}")
            theirs[name] = torch.lerp(ours[name].to(tensor.dtype), tensor, alpha)
    second.load_state_dict(theirs)
    return second


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("first", type=Path)
    p.add_argument("second", type=Path)
    p.add_argument("--alpha", type=float, required=True, help="share of SECOND (0: FIRST, 1: SECOND)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--name", help="the model's name in the app (default: SECOND's)")
    p.add_argument("--metrics", type=Path, help="a summary.json from training.evaluate of the average to record "
                                                "(as export does; SECOND's own metrics are not the average's)")
    args = p.parse_args(argv)
    first, second = load_model(args.first), load_model(args.second)
    training = dict(second.metadata.get("training") or {})
    if args.name:
        training["name"] = args.name
    training["metrics"] = json.loads(args.metrics.read_text()) if args.metrics else {}
    training["average"] = {"first": args.first.name, "second": args.second.name, "alpha": args.alpha}
    path = save_weights(args.out, average(first, second, args.alpha).eval(), metadata=training)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
