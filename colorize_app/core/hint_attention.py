"""HintAttention: each place of the bottleneck takes colour from the hinted places it resembles.

A hint enters the network at its input and, pooled, at the decoder's last block, so the hinted
colour reaches its own pixels; what it says about the rest of the photo (the other leaves of the
same tree, the other sleeve of the coat) travels only as far as the convolutions carry it, and
``hints.follow_hints`` leans the result further by lightness and distance alone. Here the network
learns the resemblance instead: at the bottleneck (stride 16), every place asks each hinted place,
by their features and their distance, whether it is the same kind of thing, and takes in a value
made of that place's features and its hinted colour.

- Queries come from every place, keys and values from the hinted places only (their number, not
  the photo's size, sets the cost); a learned penalty on the squared distance (in units of the
  photo's long side) lets a head prefer near hints, and a learned "none of them" choice with no
  value lets a place take nothing.
- With no hint, the output is the bottleneck unchanged whatever the block learned (a place that
  chooses "none of them" is unchanged too): the automatic colorizer is the same network.
- The output projection starts at zero, so a network warm-started from one without this block
  first computes exactly what that network computed (``training.warm_start``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

HEADS = 4
KEY_WIDTH = 32
DISTANCE_SCALE = 10.0  # a head's distance penalty is softplus(reach) x this x (distance / long side)^2


class HintAttention(nn.Module):
    """Bottleneck features (N x C x h x w) and pooled hints (N x 3 x h x w: a / 128, b / 128, mask)
    in, the features with what the hinted places say added, out."""

    def __init__(self, channels: int, heads: int = HEADS, key_width: int = KEY_WIDTH) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"{channels} channels do not split into {heads} heads")
        self.heads, self.key_width = heads, key_width
        self.query = nn.Conv2d(channels, heads * key_width, 1)
        self.key = nn.Conv2d(channels, heads * key_width, 1)
        self.value = nn.Conv2d(channels + 2, channels, 1)  # the hinted place's features and its colour
        self.out = nn.Conv2d(channels, channels, 1, bias=False)  # no bias: no hint, no change
        self.nothing = nn.Parameter(torch.zeros(heads))  # each head's logit for "none of the hints"
        self.reach = nn.Parameter(torch.zeros(heads))  # each head's distance penalty, before softplus
        nn.init.zeros_(self.out.weight)

    def forward(self, features: torch.Tensor, hints: torch.Tensor) -> torch.Tensor:
        n, channels, height, width = features.shape
        heads, key_width = self.heads, self.key_width
        hinted = hints[:, 2].flatten(1) > 0  # N x P
        # The hinted places first, as many columns as the most hinted photo has (at least one, so
        # a batch without hints still runs every layer); columns past a photo's own are masked.
        count = max(1, int(hinted.sum(dim=1).max()))
        order = torch.argsort(hinted.to(torch.uint8), dim=1, descending=True, stable=True)[:, :count]
        valid = torch.gather(hinted, 1, order)  # N x K

        def at_hints(x: torch.Tensor) -> torch.Tensor:  # N x D x P -> N x D x K
            return torch.gather(x, 2, order[:, None, :].expand(-1, x.shape[1], -1))

        query = self.query(features).flatten(2).view(n, heads, key_width, -1)
        key = at_hints(self.key(features).flatten(2)).view(n, heads, key_width, count)
        value = at_hints(self.value(torch.cat([features, hints[:, :2].to(features.dtype)], dim=1)).flatten(2))
        value = value.view(n, heads, channels // heads, count)

        logits = torch.einsum("nhdp,nhdk->nhpk", query, key) / key_width ** 0.5
        logits = logits - F.softplus(self.reach)[None, :, None, None] * DISTANCE_SCALE \
            * self._squared_distance(order, height, width)[:, None]
        logits = logits.masked_fill(~valid[:, None, None, :], float("-inf"))
        nothing = self.nothing[None, :, None, None].expand(n, heads, logits.shape[2], 1)
        weights = torch.softmax(torch.cat([logits, nothing], dim=3), dim=3)[..., :count]
        taken = torch.einsum("nhpk,nhck->nhcp", weights.to(value.dtype), value)
        return features + self.out(taken.reshape(n, channels, height, width))

    @staticmethod
    def _squared_distance(order: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """N x P x K: squared distance from every place to each gathered one, in long sides."""
        side = float(max(height, width))
        rows = torch.arange(height, device=order.device).repeat_interleave(width).float() / side
        cols = torch.arange(width, device=order.device).repeat(height).float() / side
        return (rows[None, :, None] - rows[order][:, None, :]) ** 2 + (cols[None, :, None] - cols[order][:, None, :]) ** 2
