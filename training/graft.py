"""Carry one weights file's hint attention block onto another file's network.

    python -m training.graft BODY --block-from DONOR --out grafted.safetensors --name NAME \
        --metrics runs/eval/summary.json

The block (``core/hint_attention.py``) sits at the bottleneck and gives nothing without hints, so a
network trained without it (a deeper body, another run) colours automatically exactly as before
with it grafted, and with hints as well as the donor's block suits its features: measure it, or
train the block on alone from here (``training.train --init grafted.safetensors --hint-attention
--body-lr 0 --fusion-lr 0``). ``training.average`` cannot do this: it keeps the last file's
network, and the block needs the body of the other.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from colorize_app.core.model import ColorizerNet
from colorize_app.core.weights import load_model, save_weights

BLOCK = "hint_attention."


def graft_block(body: ColorizerNet, donor: ColorizerNet) -> ColorizerNet:
    """A new network: ``body``'s weights with ``donor``'s hint attention block (``body``'s own
    block, if it has one, is replaced). Refused with a sentence where the donor has no block or its
    block does not fit the body's bottleneck."""
    if not donor.config.hint_attention:
        raise ValueError("the donor file has no hint attention block to carry")
    if not body.config.takes_hints:
        raise ValueError("the body's network does not take hints, so a hint attention block has nothing to read")
    grafted = ColorizerNet(dataclasses.replace(body.config, hint_attention=True))
    state = {name: tensor for name, tensor in body.state_dict().items() if not name.startswith(BLOCK)}
    expected = grafted.state_dict()
    for name, tensor in donor.state_dict().items():
        if not name.startswith(BLOCK):
            continue
        if expected[name].shape != tensor.shape:
            raise ValueError(f"{name}: the donor's block is {tuple(tensor.shape)}, the body's bottleneck needs "
                             f"{tuple(expected[name].shape)}")
        state[name] = tensor
    grafted.load_state_dict(state, strict=True)
    return grafted.eval()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("body", type=Path, help="the weights file whose network is kept")
    p.add_argument("--block-from", type=Path, required=True, help="the weights file whose hint attention block is "
                                                                  "carried over")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--name", help="the model's name in the app (default: the body file's)")
    p.add_argument("--metrics", type=Path, help="a summary.json from training.evaluate of the grafted file to record "
                                                "(the body's own metrics are not the grafted network's)")
    p.add_argument("--half", action="store_true", help="float16 tensors (half the size; loading widens them)")
    args = p.parse_args(argv)
    body, donor = load_model(args.body), load_model(args.block_from)
    try:
        grafted = graft_block(body, donor)
    except ValueError as exc:
        raise SystemExit(f"{args.body.name} and {args.block_from.name}: {exc}") from exc
    training = dict(body.metadata.get("training") or {})
    if args.name:
        training["name"] = args.name
    training["metrics"] = json.loads(args.metrics.read_text()) if args.metrics else {}
    training["graft"] = {"block_from": args.block_from.name,
                         "block_recipe": (donor.metadata.get("training") or {}).get("recipe")}
    path = save_weights(args.out, grafted, metadata=training, half=args.half)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
