"""Starting from earlier weights, and an exponential moving average of the weights.

A new network need not start from nothing: ``copy_compatible`` copies every tensor of an earlier
model whose name and shape match, and where a convolution gained input channels (the hint planes
added to the stem, or to the decoder's last skip), it copies the old channels and zeroes the new
ones (new channels are always appended: the stem reads [L, hints], the decoder [upsampled, skip,
hints]), so the warm-started network first behaves exactly as the old one did and learns to use
the hints from there. A deeper body grown from a shallower one starts the same way:
``new_blocks_as_identity`` makes the blocks it adds pass their input through.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from colorize_app.core.backbones import BasicBlock


@torch.no_grad()
def copy_compatible(target: nn.Module, source: nn.Module) -> int:
    """Copy ``source``'s tensors into ``target`` where they fit; returns how many were copied."""
    theirs = source.state_dict()
    copied = 0
    for name, tensor in target.state_dict().items():
        old = theirs.get(name)
        if old is None:
            continue
        if old.shape == tensor.shape:
            tensor.copy_(old)
        elif name.startswith("head.") and old.shape[1:] == tensor.shape[1:] and old.shape[0] < tensor.shape[0]:
            # A regression head (2 rows) becomes a dual head's last two rows; a bins head its first.
            rows = slice(-2, None) if old.shape[0] == 2 else slice(0, old.shape[0])
            tensor[rows] = old
        elif reads_fewer_channels(old, tensor):
            tensor.zero_()
            tensor[:, : old.shape[1]] = old
        else:
            continue
        copied += 1
    return copied


def reads_fewer_channels(old: torch.Tensor, new: torch.Tensor) -> bool:
    """Whether ``old`` is the convolution ``new`` was widened from: the same outputs and kernel,
    fewer input channels (the new ones are appended after them)."""
    return old.ndim == 4 and old.shape[0] == new.shape[0] and old.shape[2:] == new.shape[2:] \
        and old.shape[1] < new.shape[1]


@torch.no_grad()
def new_blocks_as_identity(target: nn.Module, source: nn.Module) -> int:
    """Make the residual blocks of ``target`` that ``source`` lacks (a deeper body, resnet34's,
    grown from a resnet18 file) pass their input through unchanged; returns how many. Their last
    BatchNorm's scale and shift are zeroed, so the block adds nothing to its shortcut (the
    zero-initialised residual of Goyal et al. 2017, Net2DeeperNet of Chen et al. 2016) and the grown
    network first computes exactly what ``source`` did; training then opens the blocks."""
    theirs = source.state_dict()
    grown = 0
    for name, module in target.named_modules():
        if isinstance(module, BasicBlock) and module.downsample is None and f"{name}.bn2.weight" not in theirs:
            module.bn2.weight.zero_()
            module.bn2.bias.zero_()
            grown += 1
    return grown


class EMA:
    """An exponential moving average of a model's weights (and a copy of its buffers)."""

    def __init__(self, model: nn.Module, decay: float, state: dict | None = None) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        if state is not None:
            self.model.load_state_dict(state)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for mine, theirs in zip(self.model.parameters(), model.parameters()):
            mine.lerp_(theirs.detach(), 1 - self.decay)
        for mine, theirs in zip(self.model.buffers(), model.buffers()):
            mine.copy_(theirs)

    def state_dict(self) -> dict:
        return {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
