"""ColorizerNet: a torchvision ResNet encoder on lightness, a U-Net decoder, and an (a, b) head.

The network takes normalised L (N x 1 x H x W, see ``colour.normalize_l``) of any size and
returns (a, b) in natural Lab units at the same size. A hint-capable network (``in_channels`` 4,
Zhang et al. 2017) also takes colour hints: hint (a, b) / 128 and a mask that is 1 where a hint
was given (N x 3 x H x W, see ``hints.hint_planes``); with no hints the mask is all zero and it is
the automatic colorizer, so one model serves both. The hints enter at the stem and again, pooled,
at the decoder's last block, so a hinted colour reaches its own pixels directly; with
``hint_attention`` the bottleneck also takes colour from the hinted places each place resembles
(``hint_attention.HintAttention``). Two heads share the body:

- ``"bins"``: logits over the in-gamut ab bins (Zhang et al. 2016), decoded with the annealed
  mean, which keeps colours vivid where a regression would average them to brown;
- ``"regression"``: tanh x 128, the seed report's recipe, kept as the baseline;
- ``"dual"``: both on one body, trained together (cross-entropy on the bins, Huber on the
  regression); the colour is ``blend`` x the annealed mean + (1 - blend) x the regression, so
  one measured number trades vivid, committed hues against the regression's caution, and the bin
  distribution can suggest colours for a point and show where the model is unsure.

Colour is predicted at ``out_stride`` of the input and upsampled bilinearly: chroma is smooth,
and the full-resolution lightness laid over it later carries the detail.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import ResNet
from .colour import AB_SCALE, ab_gamut_bins
from .hint_attention import HintAttention
from .semantic import SEMANTIC_BACKBONES, SemanticBranch

HINT_CHANNELS = 3  # hint a / 128, hint b / 128, mask

# Channels out of the stem (stride 2) and of ResNet stages 1..4 (strides 4, 8, 16, 32).
_STAGE_CHANNELS = {
    "resnet18": (64, 64, 128, 256, 512),
    "resnet34": (64, 64, 128, 256, 512),
}


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a ColorizerNet; stored in every weights file."""

    backbone: str = "resnet18"
    cut_after: int = 3          # last ResNet stage kept (1..4); the encoder's stride is 2**(cut_after+1)
    out_stride: int = 4         # resolution the decoder reaches before the final bilinear upsampling
    decoder_width: int = 128    # channels of the widest decoder block (halved per level, at least 32)
    head: str = "bins"          # "bins", "regression" or "dual"
    bin_grid: int = 10          # ab grid step for the bins head
    temperature: float = 0.38   # annealed-mean temperature for the bins head
    chroma_gain: float = 1.0    # calibration: predicted ab is multiplied by this (chosen on held-out photos)
    in_channels: int = 1        # 1: lightness only (the first model); 4: lightness + hint a, b, mask
    blend: float = 0.5          # dual head: weight of the bins' annealed mean against the regression
    semantic: str = "none"      # "mobilenet_v2": an ImageNet encoder's features fused at the bottleneck (the third model)
    semantic_mid: bool = False  # also its stride-16 features, not only the pooled ones
    hint_attention: bool = False  # the bottleneck takes colour from the hinted places it resembles

    def __post_init__(self) -> None:
        if self.backbone not in _STAGE_CHANNELS:
            raise ValueError(f"unknown backbone {self.backbone!r}; use one of {sorted(_STAGE_CHANNELS)}")
        if not 1 <= self.cut_after <= 4:
            raise ValueError("cut_after must be between 1 and 4")
        if self.out_stride not in (1, 2, 4) or self.out_stride > 2 ** (self.cut_after + 1):
            raise ValueError("out_stride must be 1, 2 or 4 and not coarser than the encoder")
        if self.head not in ("bins", "regression", "dual"):
            raise ValueError("head must be 'bins', 'regression' or 'dual'")
        if not 0.0 <= self.blend <= 1.0:
            raise ValueError("blend must be between 0 and 1")
        if self.semantic not in SEMANTIC_BACKBONES:
            raise ValueError(f"semantic must be one of {', '.join(SEMANTIC_BACKBONES)}")
        if self.semantic_mid and self.semantic == "none":
            raise ValueError("semantic_mid needs a semantic backbone")
        if self.in_channels not in (1, 1 + HINT_CHANNELS):
            raise ValueError(f"in_channels must be 1 or {1 + HINT_CHANNELS}")
        if self.hint_attention and not self.takes_hints:
            raise ValueError("hint_attention needs a network that takes hints (in_channels 4)")

    @property
    def takes_hints(self) -> bool:
        return self.in_channels > 1

    @property
    def stride(self) -> int:
        """Input sizes are padded to a multiple of this."""
        return 2 ** (self.cut_after + 1)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        return cls(**data)


class _UpBlock(nn.Module):
    """Upsample x2, concatenate the encoder's skip, two 3x3 convolutions."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels + skip_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.body(torch.cat([x, skip], dim=1))


class ColorizerNet(nn.Module):
    """Lightness in, (a, b) out; see the module docstring."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or ModelConfig()
        resnet = ResNet(config.backbone, in_channels=config.in_channels)
        self.stem = nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu)
        self.pool = resnet.maxpool
        self.stages = nn.ModuleList(
            [resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4][: config.cut_after]
        )
        channels = _STAGE_CHANNELS[config.backbone]
        if config.semantic != "none":
            self.semantic = SemanticBranch(channels[config.cut_after], mid=config.semantic_mid)
        if config.hint_attention:
            self.hint_attention = HintAttention(channels[config.cut_after])
        # Skips available, from the deepest kept stage down to out_stride.
        levels = list(range(config.cut_after, -1, -1))  # stage index; 0 = stem (stride 2)
        strides = {0: 2, 1: 4, 2: 8, 3: 16, 4: 32}
        self.ups = nn.ModuleList()
        width = channels[config.cut_after]
        kept = [level for level in levels[1:] if strides[level] >= config.out_stride]
        hint_skip = HINT_CHANNELS if config.takes_hints else 0
        for depth, level in enumerate(kept):
            out_width = max(32, config.decoder_width >> depth)
            last = depth == len(kept) - 1 and config.out_stride != 1
            self.ups.append(_UpBlock(width, channels[level] + (hint_skip if last else 0), out_width))
            width = out_width
        if config.out_stride == 1:
            self.ups.append(_UpBlock(width, config.in_channels, max(32, width // 2)))
            width = max(32, width // 2)
        if config.head in ("bins", "dual"):
            bins = torch.from_numpy(ab_gamut_bins(config.bin_grid))
            self.register_buffer("bin_centres", bins, persistent=True)
            self.head = nn.Conv2d(width, len(bins) + (2 if config.head == "dual" else 0), kernel_size=1)
        else:
            self.head = nn.Conv2d(width, 2, kernel_size=1)

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def network_input(self, lightness: torch.Tensor, hints: torch.Tensor | None = None) -> torch.Tensor:
        """L, with the hint planes (zeros when there are none) for a hint-capable network."""
        if not self.config.takes_hints:
            if hints is not None:
                raise ValueError("this model takes no colour hints (its weights are of the first model)")
            return lightness
        if hints is None:
            hints = lightness.new_zeros((lightness.shape[0], HINT_CHANNELS, *lightness.shape[-2:]))
        return torch.cat([lightness, hints.to(lightness.dtype)], dim=1)

    def head_output(self, x: torch.Tensor) -> torch.Tensor:
        """Raw head output at 1/out_stride of the input (bin logits, or tanh-scaled ab / 128).

        ``x`` is ``network_input(...)``; its height and width must be multiples of
        ``config.stride`` (training crops are).
        """
        features = [self.stem(x)]
        y = self.pool(features[0])
        for stage in self.stages:
            y = stage(y)
            features.append(y)
        if self.config.semantic != "none":
            y = self.semantic(x[:, :1], y)
        if self.config.hint_attention:
            y = self.hint_attention(y, _pool_hints(x[:, 1:], y.shape[-2:]))
        skips = features[:-1][::-1]
        if self.config.out_stride == 1:
            skips.append(x)
        elif self.config.takes_hints and self.ups:
            skips = skips[: len(self.ups)]
            skips[-1] = torch.cat([skips[-1], _pool_hints(x[:, 1:], skips[-1].shape[-2:])], dim=1)
        for up, skip in zip(self.ups, skips):
            y = up(y, skip)
        x = y
        out = self.head(x)
        if self.config.head == "bins":
            return out
        if self.config.head == "regression":
            return torch.tanh(out)
        return torch.cat([out[:, :-2], torch.tanh(out[:, -2:])], dim=1)  # dual: logits, then ab / 128

    def decode(self, head_output: torch.Tensor) -> torch.Tensor:
        """Head output -> (a, b) in natural units at the head's resolution."""
        head_output = head_output.float()
        if self.config.head == "regression":
            ab = head_output * AB_SCALE
        else:
            logits = head_output[:, : len(self.bin_centres)]
            probs = torch.softmax(logits / self.config.temperature, dim=1)
            ab = torch.einsum("nqhw,qc->nchw", probs, self.bin_centres.float())
            if self.config.head == "dual":
                blend = self.config.blend
                ab = blend * ab + (1 - blend) * head_output[:, -2:] * AB_SCALE
        # A mean-seeking model shrinks colour towards gray; a gain measured on held-out photos
        # restores the colourfulness real photos have (see training/MODEL_CARD.md).
        return ab * self.config.chroma_gain if self.config.chroma_gain != 1.0 else ab

    def forward(self, lightness: torch.Tensor, hints: torch.Tensor | None = None) -> torch.Tensor:
        """Normalised L (N x 1 x H x W, any size), optional hint planes (N x 3 x H x W) -> (a, b)
        (N x 2 x H x W), natural Lab units."""
        height, width = lightness.shape[-2:]
        stride = self.config.stride
        pad_h, pad_w = (-height) % stride, (-width) % stride
        if pad_h or pad_w:
            mode = "reflect" if pad_h < height and pad_w < width else "replicate"
            lightness = F.pad(lightness, (0, pad_w, 0, pad_h), mode=mode)
            if hints is not None:  # zeros, not a reflection: a mirrored hint would be a second hint
                hints = F.pad(hints, (0, pad_w, 0, pad_h))
        ab = self.decode(self.head_output(self.network_input(lightness, hints)))
        ab = F.interpolate(ab, size=lightness.shape[-2:], mode="bilinear", align_corners=False)
        return ab[..., :height, :width]


def _pool_hints(hints: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Hint planes at a coarser size: the mask-weighted mean colour, and whether any pixel was hinted."""
    ab, mask = hints[:, :2], hints[:, 2:]
    kernel = (hints.shape[-2] // size[0], hints.shape[-1] // size[1])
    weight = F.avg_pool2d(mask, kernel)
    mean_ab = F.avg_pool2d(ab * mask, kernel) / weight.clamp_min(1e-6)
    return torch.cat([mean_ab, (weight > 0).to(hints.dtype)], dim=1)
