"""What the photo shows: an ImageNet classifier's encoder as a semantic branch of the colorizer.

The seed report's network fused the output of an ImageNet classifier into its colorization
network, so that grass is green because it is grass. The third model does the same with
MobileNetV2's features (torchvision's architecture, ``backbones.py``; the ImageNet weights come in at training time
only, see ``training/semantic_init.py``, and ship inside the model's own ``.safetensors``):

- its first convolution is folded to one input channel: a gray photo has R = G = B, so the RGB
  weights are summed (each divided by ImageNet's standard deviation of its channel) and the
  normalisation's means become a bias (``fold_rgb_stem``);
- it sees the photo as sRGB gray (the network's lightness turned back into a gray level);
- its pooled last features (1,280 numbers: what is in the photo) are broadcast over the
  colorizer's bottleneck, and optionally its stride-16 features (96 channels: what is where) are
  laid beside them; a residual 1x1 block mixes them in. Its last layer starts at zero, so a
  network warm-started from the second model first colours exactly as the second model did.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import mobilenet_v2_features

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SEMANTIC_BACKBONES = ("none", "mobilenet_v2")
GLOBAL_FEATURES = 1280   # MobileNetV2's last feature map, pooled
MID_FEATURES = 96        # MobileNetV2's stride-16 features (after block 13)
MID_BLOCKS = 14          # features[:14] end at stride 16
FUSION_WIDTH = 256


def srgb_gray(light: torch.Tensor) -> torch.Tensor:
    """Network lightness (L / 50 - 1) -> the sRGB gray level in [0, 1] with that CIE L."""
    lightness = (light.float() + 1.0) * 50.0
    fy = (lightness + 16.0) / 116.0
    delta = 6.0 / 29.0
    luminance = torch.where(fy > delta, fy**3, 3 * delta**2 * (fy - 4.0 / 29.0)).clamp(0.0, 1.0)
    return torch.where(luminance > 0.0031308, 1.055 * luminance.clamp_min(1e-8) ** (1 / 2.4) - 0.055,
                       12.92 * luminance)


@torch.no_grad()
def fold_rgb_stem(conv: nn.Conv2d, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> nn.Conv2d:
    """A one-channel convolution equal to ``conv`` on ``(gray - mean) / std`` in all three
    channels, away from the border (zero padding means the channel mean to ``conv``, black here)."""
    weight = conv.weight.double()
    std_t = torch.tensor(std, dtype=torch.float64).view(1, 3, 1, 1)
    mean_t = torch.tensor(mean, dtype=torch.float64).view(1, 3, 1, 1)
    folded = nn.Conv2d(1, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
    folded.weight.copy_((weight / std_t).sum(dim=1, keepdim=True).float())
    bias = -(weight * mean_t / std_t).sum(dim=(1, 2, 3))
    if conv.bias is not None:
        bias = bias + conv.bias.double()
    folded.bias.copy_(bias.float())
    return folded


def gray_mobilenet_v2() -> nn.Sequential:
    """MobileNetV2's feature extractor with a one-channel first convolution (weights unset)."""
    features = mobilenet_v2_features()
    first = features[0][0]
    features[0][0] = nn.Conv2d(1, first.out_channels, first.kernel_size, first.stride, first.padding, bias=True)
    return features


class SemanticBranch(nn.Module):
    """Gray photo -> MobileNetV2 features -> a residual change to the colorizer's bottleneck."""

    def __init__(self, bottleneck_channels: int, *, mid: bool = False) -> None:
        super().__init__()
        self.encoder = gray_mobilenet_v2()
        self.mid = mid
        self.frozen = True  # training may unfreeze it; frozen, its batch statistics stay ImageNet's
        self.encoder.eval()
        self.global_proj = nn.Sequential(nn.Linear(GLOBAL_FEATURES, FUSION_WIDTH), nn.ReLU(inplace=True))
        width = bottleneck_channels + FUSION_WIDTH + (MID_FEATURES if mid else 0)
        self.mix = nn.Sequential(
            nn.Conv2d(width, bottleneck_channels, 1, bias=False),
            nn.BatchNorm2d(bottleneck_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(bottleneck_channels, bottleneck_channels, 1),
        )
        nn.init.zeros_(self.mix[-1].weight)
        nn.init.zeros_(self.mix[-1].bias)

    def train(self, mode: bool = True) -> SemanticBranch:
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
        return self

    def features(self, light: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(pooled global features N x 1280, stride-16 features N x 96 x h x w) of the photo."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            x = srgb_gray(light).to(light.dtype)
            mid = self.encoder[:MID_BLOCKS](x)
            x = self.encoder[MID_BLOCKS:](mid)
            return F.adaptive_avg_pool2d(x, 1).flatten(1), mid

    def forward(self, light: torch.Tensor, bottleneck: torch.Tensor) -> torch.Tensor:
        """The bottleneck (N x C x h x w) with what the photo shows mixed in."""
        pooled, mid = self.features(light)
        size = bottleneck.shape[-2:]
        parts = [bottleneck, self.global_proj(pooled)[:, :, None, None].expand(-1, -1, *size)]
        if self.mid:
            parts.append(F.interpolate(mid, size=size, mode="bilinear", align_corners=False))
        parts = [p.to(bottleneck.dtype) for p in parts]
        return bottleneck + self.mix(torch.cat(parts, dim=1))
