"""Average weights files in weight space: two with a share (WiSE-FT, Wortsman et al. 2022) or
several alike (a uniform "model soup", Wortsman et al. 2022).

    python -m training.average FIRST SECOND --alpha 0.3 --out averaged.safetensors --name NAME \
        --metrics runs/eval/summary.json
    python -m training.average A B C --out soup.safetensors --name NAME

Each floating-point tensor becomes the weighted mean of the files' (two files: (1 - alpha) *
FIRST + alpha * SECOND; without --alpha, every file alike). BatchNorm's counters and any tensor an
earlier file lacks (a semantic branch the second model never had) are the last file's; where the
last file's convolution reads more input channels (the semantic branch's middle features), an
earlier file counts as zero on them, which is the network it is (``training.warm_start`` starts
such a run with them at zero); where the last file's body is deeper (resnet34 grown from a
resnet18 file), an earlier file's missing blocks count as passing their input through, so each
added block's residual is scaled by the last file's share. The files must be the same network
apart from such additions (the last one's description is kept). A
fine-tuned model averaged with the one it started from often keeps more of what the start knew
about photos unlike the fine-tuning's; runs fine-tuned from one file with different losses,
averaged, often beat each of them: the third model's measurements in MODEL_CARD.md choose on the
foreign split.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from colorize_app.core.backbones import BasicBlock
from colorize_app.core.model import ColorizerNet
from colorize_app.core.weights import load_model, save_weights
from training.warm_start import reads_fewer_channels


def average(models: list[ColorizerNet], shares: list[float]) -> ColorizerNet:
    """The last of ``models`` with each floating-point weight replaced by the mean of all the
    models' weights, weighted by ``shares`` (which sum to 1); in place, also returned. A weight an
    earlier model lacks stays the last model's; input channels it lacks count as zero, blocks it
    lacks as identities. An earlier model with weights the last lacks is refused: they would be
    dropped without a word."""
    if len(models) != len(shares) or len(models) < 2:
        raise ValueError("average needs two or more models and one share for each")
    base = models[-1]
    states = [with_grown_blocks_as_identity(m.state_dict(), base) for m in models]
    merged = states[-1]
    for name, tensor in merged.items():
        if not tensor.is_floating_point() or any(name not in s for s in states[:-1]):
            continue
        alike = [widened(state[name], tensor, name) for state in states[:-1]] + [tensor]
        merged[name] = sum(share * t.to(tensor.dtype) for share, t in zip(shares, alike, strict=True))
    for state in states[:-1]:
        if extra := sorted(set(state) - set(merged)):
            raise ValueError(f"{extra[0]} and {len(extra) - 1} more tensors are in an earlier file and not in the "
                             "last: give the file with the most parts (a deeper body, a block) last")
    base.load_state_dict(merged)
    return base


def with_grown_blocks_as_identity(state: dict, deeper: ColorizerNet) -> dict:
    """``state`` with the last BatchNorm of each residual block it lacks and ``deeper`` has at
    zero: a shallower body is the deeper network whose added blocks pass their input through
    (``warm_start.new_blocks_as_identity``, how a run grows one), so an average with share s of the
    deeper file scales those blocks' residuals by s; their other tensors are the deeper file's."""
    grown = {}
    for name, module in deeper.named_modules():
        if isinstance(module, BasicBlock) and module.downsample is None and f"{name}.bn2.weight" not in state:
            grown[f"{name}.bn2.weight"] = torch.zeros_like(module.bn2.weight)
            grown[f"{name}.bn2.bias"] = torch.zeros_like(module.bn2.bias)
    return state | grown if grown else state


def widened(theirs: torch.Tensor, like: torch.Tensor, name: str) -> torch.Tensor:
    """``theirs`` in ``like``'s shape: as it is, or a convolution that reads fewer input channels
    with zeros on the channels it lacks (they are appended, so the first are its own); any other
    difference is a different network, refused."""
    if theirs.shape == like.shape:
        return theirs
    if reads_fewer_channels(theirs, like):
        wide = torch.zeros_like(like, dtype=theirs.dtype)
        wide[:, : theirs.shape[1]] = theirs
        return wide
    if reads_fewer_channels(like, theirs):
        raise ValueError(f"{name}: {tuple(theirs.shape)} against {tuple(like.shape)}: give the file that reads "
                         "more input channels last")
    raise ValueError(f"{name}: {tuple(theirs.shape)} against {tuple(like.shape)}: not the same network")


def shares_for(count: int, alpha: float | None) -> list[float]:
    """Every file alike, or (1 - alpha, alpha) for two."""
    if alpha is None:
        return [1.0 / count] * count
    if count != 2:
        raise SystemExit("--alpha mixes two files; leave it out to average several alike")
    if not 0.0 <= alpha <= 1.0:
        raise SystemExit(f"--alpha is a share between 0 and 1, not {alpha}")
    return [1.0 - alpha, alpha]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", type=Path, nargs="+", help="two or more weights files of one network")
    p.add_argument("--alpha", type=float, help="with two files, the second's share (0: FIRST, 1: SECOND); "
                                               "left out, every file counts alike")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--name", help="the model's name in the app (default: the last file's)")
    p.add_argument("--metrics", type=Path, help="a summary.json from training.evaluate of the average to record "
                                                "(as export does; the files' own metrics are not the average's)")
    p.add_argument("--half", action="store_true", help="float16 tensors (half the size; loading widens them): a "
                                                       "resnet34 body is 47.7 MB in float32, over the 40 MB a "
                                                       "shipped file may be")
    args = p.parse_args(argv)
    if len(args.files) < 2:
        p.error("give two or more weights files")
    shares = shares_for(len(args.files), args.alpha)
    loaded = {path: load_model(path) for path in dict.fromkeys(args.files)}  # a file given twice is read once
    models = [loaded[path] for path in args.files]
    training = dict(models[-1].metadata.get("training") or {})
    if args.name:
        training["name"] = args.name
    training["metrics"] = json.loads(args.metrics.read_text()) if args.metrics else {}
    training["average"] = {"files": [path.name for path in args.files], "shares": shares}
    path = save_weights(args.out, average(models, shares).eval(), metadata=training, half=args.half)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
