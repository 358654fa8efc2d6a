"""Training losses.

- ``mse``: the seed report's recipe, squared error on ab / 128 through the tanh head. It is kept as
  the baseline; it predicts the average of plausible colours, which is brown and desaturated.
- ``bins``: Zhang et al. (2016) classification over the in-gamut ab bins, with soft-encoded
  targets (5 nearest bins, Gaussian sigma 5) and class rebalancing (prior smoothed with sigma 5,
  mixed with the uniform distribution by lambda 0.5), so rare saturated colours are not drowned
  out by the common greys and browns. The model decodes it with the annealed mean.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from colorize_app.core.colour import AB_SCALE


def downsample_ab(ab: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area-average the full-resolution ab target to the head's resolution."""
    return ab if ab.shape[-2:] == size else F.adaptive_avg_pool2d(ab, size)


def mse_loss(head_output: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """The seed's loss: mean squared error between tanh output and ab / 128."""
    target = downsample_ab(ab, head_output.shape[-2:]) / AB_SCALE
    return F.mse_loss(head_output.float(), target)


def ab_prior(ab_samples: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Empirical probability of each bin (nearest centre) over ab samples (P x 2)."""
    counts = np.zeros(len(centres))
    grid = torch.from_numpy(np.asarray(centres, np.float32))
    for chunk in torch.from_numpy(np.asarray(ab_samples, np.float32)).split(65536):
        nearest = torch.cdist(chunk, grid).argmin(1)  # chunked: P x Q distances would be gigabytes
        counts += np.bincount(nearest.numpy(), minlength=len(centres))
    return counts / counts.sum()


def rebalancing_weights(prior: np.ndarray, centres: np.ndarray, lam: float = 0.5, sigma: float = 5.0) -> np.ndarray:
    """Zhang et al.'s class weights: inverse of the smoothed prior mixed with uniform, E_prior[w] = 1."""
    d2 = ((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-d2 / (2 * sigma**2))
    smoothed = kernel @ prior / kernel.sum(1)
    smoothed /= smoothed.sum()
    weights = 1.0 / ((1 - lam) * smoothed + lam / len(prior))
    return weights / (smoothed * weights).sum()


class BinsLoss:
    """Rebalanced cross-entropy against soft-encoded ab targets."""

    def __init__(self, centres: torch.Tensor, weights: torch.Tensor | None = None,
                 neighbours: int = 5, sigma: float = 5.0) -> None:
        self.centres = centres.float()
        self.weights = weights.float() if weights is not None else torch.ones(len(centres))
        self.neighbours = neighbours
        self.sigma = sigma

    def to(self, device: torch.device) -> BinsLoss:
        self.centres, self.weights = self.centres.to(device), self.weights.to(device)
        return self

    def soft_targets(self, ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """For pixels (P x 2): indices and weights of the nearest bins, and each pixel's class weight."""
        dist = torch.cdist(ab, self.centres)
        near, idx = dist.topk(self.neighbours, dim=1, largest=False)
        soft = torch.softmax(-(near**2) / (2 * self.sigma**2), dim=1)
        return idx, soft, self.weights[idx[:, 0]]

    def __call__(self, logits: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        target = downsample_ab(ab, logits.shape[-2:])
        pixels = target.permute(0, 2, 3, 1).reshape(-1, 2).float()
        log_probs = F.log_softmax(logits.float(), dim=1).permute(0, 2, 3, 1).reshape(-1, logits.shape[1])
        idx, soft, pixel_weight = self.soft_targets(pixels)
        ce = -(soft * log_probs.gather(1, idx)).sum(1)
        return (pixel_weight * ce).sum() / pixel_weight.sum()


def huber_loss(head_output: torch.Tensor, ab: torch.Tensor, delta: float = 1 / 16,
               weight: torch.Tensor | None = None) -> torch.Tensor:
    """Smooth L1 between tanh output and ab / 128 (Zhang et al. 2017's regression loss).

    Past ``delta`` (8 ab units) it grows linearly, so a photo whose colour is ambiguous pulls the
    prediction towards the median of the plausible colours rather than their grey mean. With
    ``weight`` (N x 1 x h x w at the head's resolution), the weighted mean over pixels.
    """
    target = downsample_ab(ab, head_output.shape[-2:]) / AB_SCALE
    if weight is None:
        return F.smooth_l1_loss(head_output.float(), target, beta=delta) / delta
    error = F.smooth_l1_loss(head_output.float(), target, beta=delta, reduction="none")
    return (weight * error).sum() / (weight.sum() * error.shape[1]) / delta


class RebalancedHuber:
    """Huber's loss with each pixel weighted by how rare its true colour is (the class weights
    of the bins loss, looked up at the nearest bin): the regression head no longer learns that
    a cautious grey-brown is the safe answer for every saturated thing it has seen only a few
    times. ``weights`` are normalised to mean 1 over the colour prior, so the loss keeps its scale.
    """

    def __init__(self, centres: torch.Tensor, weights: torch.Tensor, delta: float = 1 / 16) -> None:
        self.centres = centres.float()
        self.weights = weights.float()
        self.delta = delta

    def to(self, device: torch.device) -> RebalancedHuber:
        self.centres, self.weights = self.centres.to(device), self.weights.to(device)
        return self

    def __call__(self, head_output: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        target = downsample_ab(ab, head_output.shape[-2:])
        pixels = target.permute(0, 2, 3, 1).reshape(-1, 2).float()
        weight = self.weights[torch.cdist(pixels, self.centres).argmin(1)]
        return huber_loss(head_output, ab, self.delta, weight.reshape(target.shape[0], 1, *target.shape[2:]))


def rebalancing_lambda(strength: float) -> float:
    """``--rebalance`` strength (0 none, 1 Zhang et al.'s weights) as their mixing lambda."""
    return 1.0 - strength / 2


class DualLoss:
    """The dual head's loss: the bins' rebalanced cross-entropy plus the regression's Huber loss."""

    def __init__(self, bins: BinsLoss, huber_weight: float = 1.0) -> None:
        self.bins = bins
        self.huber_weight = huber_weight

    def to(self, device: torch.device) -> DualLoss:
        self.bins.to(device)
        return self

    def __call__(self, head_output: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        logits, regression = head_output[:, :-2], head_output[:, -2:]
        return self.bins(logits, ab) + self.huber_weight * huber_loss(regression, ab)


def _along_across(pred: torch.Tensor, direction: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A prediction's component along the true hue's unit vector and its size across it (ab units)."""
    along = (pred * direction).sum(1, keepdim=True)
    across = (pred[:, :1] * direction[:, 1:] - pred[:, 1:] * direction[:, :1]).abs()
    return along, across


def hue_family_loss(regression: torch.Tensor, ab: torch.Tensor, margin: float = 8.0,
                    colourful: float = 15.0, by_angle: bool = False) -> torch.Tensor:
    """How far the regression (ab / 128, N x 2 x h x w) is from the truth's colour family, in ab units / margin.

    Over the pixels whose true chroma is at least ``colourful`` (metrics.md's threshold), the
    prediction's component along the true hue should reach ``margin`` ab units (metrics.md counts
    chroma 5 and up) and exceed its component across it (within 45 degrees); the shortfall of each
    is paid linearly. Grey scores ``1`` a pixel, a right colour family of chroma ``margin`` or more
    ``0``; pixels that are not colourful cost nothing (the regression loss keeps them).

    ``by_angle``: the chroma should reach ``margin`` and the hue be within 45 degrees, each paid
    apart (the angle's shortfall as ``margin`` x (|sin| - cos)), so a strong wrong colour costs no
    more than a pale one: the term no longer pushes colours toward pale (the regression keeps
    magnitude), which the first form did (model card, seventh session).
    """
    target = downsample_ab(ab, regression.shape[-2:]).float()
    chroma = target.norm(dim=1, keepdim=True)
    mask = (chroma >= colourful).float()
    direction = target / chroma.clamp_min(1e-6)
    pred = regression.float() * AB_SCALE
    along, across = _along_across(pred, direction)
    if by_angle:
        size = pred.norm(dim=1, keepdim=True).clamp_min(1e-6)
        shortfall = F.relu(margin - size) + margin * F.relu((across - along) / size)
    else:
        shortfall = F.relu(margin - along) + F.relu(across - along)
    return (mask * shortfall).sum() / (mask.sum().clamp_min(1.0) * margin)


def neutral_loss(regression: torch.Tensor, ab: torch.Tensor, margin: float = 8.0,
                 neutral: float = 5.0) -> torch.Tensor:
    """How much colour the regression (ab / 128) puts where the truth is grey, in ab units / margin.

    Over the pixels whose true chroma is below ``neutral`` (metrics.md counts a colour from chroma
    5), the predicted chroma is paid linearly: ``margin`` units cost 1 a pixel, as grey does on a
    colourful pixel in ``hue_family_loss``. Huber's square barely charges the few units of colour
    that the colour-family loss teaches a network to put everywhere, and ΔE00 charges them most
    on grey things (model card, eighth session); this is the counterweight.
    """
    target = downsample_ab(ab, regression.shape[-2:]).float()
    mask = (target.norm(dim=1, keepdim=True) < neutral).float()
    size = (regression.float() * AB_SCALE).norm(dim=1, keepdim=True)
    return (mask * size).sum() / (mask.sum().clamp_min(1.0) * margin)


def vivid_loss(regression: torch.Tensor, ab: torch.Tensor, margin: float = 8.0, vivid: float = 30.0,
               share: float = 0.8) -> torch.Tensor:
    """How much paler than the truth the regression (ab / 128) is where it has the colour family right.

    Over the pixels whose true chroma is at least ``vivid`` and whose predicted hue is within 45
    degrees of the truth's, the predicted chroma's shortfall below ``share`` of the true chroma is
    paid linearly, ``margin`` units costing 1 a pixel. Huber's loss keeps colours pale where it is
    unsure, and with the neutral loss the shipped network paid for its colour families in
    colourfulness, its remaining ΔE00 loss all on vivid pixels (model card, eighth session); a
    pixel whose family is wrong costs nothing here, meant to make the network commit where it
    knows. Measured (ninth session): it saturates everywhere, no better than a colour gain.
    """
    target = downsample_ab(ab, regression.shape[-2:]).float()
    chroma = target.norm(dim=1, keepdim=True)
    direction = target / chroma.clamp_min(1e-6)
    pred = regression.float() * AB_SCALE
    along, across = _along_across(pred, direction)
    mask = ((chroma >= vivid) & (along > across)).float()
    shortfall = F.relu(share * chroma - pred.norm(dim=1, keepdim=True))
    return (mask * shortfall).sum() / (mask.sum().clamp_min(1.0) * margin)


def ciede2000_ab(ab1: torch.Tensor, ab2: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """CIEDE2000 between two colours of the same lightness (N x 2 x ... in ab units), differentiable.

    Sharma, Wu and Dalal's formulas (2005) with the lightness term zero, as it is between a
    colorization and its truth (the network keeps the photo's lightness); the lightness weight
    S_L then drops out, so the distance depends on a and b alone. The hue difference's size comes
    from |Δab|² - ΔC² and its sign from the cross product, instead of angles (the same value, and
    a finite gradient at grey); the weights that depend on the mean hue (T, the rotation term) are
    held fixed for the gradient.
    """
    def chroma(a, b):  # 0 at grey, with a finite gradient there
        return torch.sqrt(a * a + b * b + eps) - eps ** 0.5

    def weight7(c):  # sqrt(c^7 / (c^7 + 25^7)), written so that its gradient is finite at grey
        return c ** 3.5 / torch.sqrt(c ** 7 + 25.0 ** 7)

    a1, b1, a2, b2 = ab1[:, 0], ab1[:, 1], ab2[:, 0], ab2[:, 1]
    g = 0.5 * (1 - weight7((chroma(a1, b1) + chroma(a2, b2)) / 2))
    a1, a2 = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = chroma(a1, b1), chroma(a2, b2)
    dc = c2 - c1
    cross = a1 * b2 - b1 * a2
    # |v2 - v1|^2 = dC^2 + dH^2: the hue difference's size without angles; its sign is the cross product's
    dh = torch.where(cross < 0, -1.0, 1.0) * torch.sqrt(F.relu((a2 - a1) ** 2 + (b2 - b1) ** 2 - dc * dc) + eps)
    with torch.no_grad():  # the mean hue, by the standard's rules (a grey colour's hue counts as 0)
        h1, h2 = (torch.rad2deg(torch.atan2(b, a)) % 360 for a, b in ((a1, b1), (a2, b2)))
        h = torch.where((h1 - h2).abs() <= 180, (h1 + h2) / 2, (h1 + h2 + 360) / 2 % 360)
        h = torch.where((a1 * a1 + b1 * b1) * (a2 * a2 + b2 * b2) == 0, h1 + h2, h)
        t = (1 - 0.17 * torch.cos(torch.deg2rad(h - 30)) + 0.24 * torch.cos(torch.deg2rad(2 * h))
             + 0.32 * torch.cos(torch.deg2rad(3 * h + 6)) - 0.20 * torch.cos(torch.deg2rad(4 * h - 63)))
        theta = 30 * torch.exp(-(((h - 275) / 25) ** 2))
    c_bar = (c1 + c2) / 2
    r_t = -torch.sin(torch.deg2rad(2 * theta)) * 2 * weight7(c_bar)
    sc, sh = 1 + 0.045 * c_bar, 1 + 0.015 * c_bar * t
    x, y = dc / sc, dh / sh
    return torch.sqrt(F.relu(x * x + y * y + r_t * x * y) + eps)


def de00_loss(regression: torch.Tensor, ab: torch.Tensor, margin: float = 8.0) -> torch.Tensor:
    """The mean CIEDE2000 between the regression (ab / 128) and the truth, in units of ``margin``.

    metrics.md's first measure, paid directly. Unlike Huber's loss on ab, it pays a small tint on a
    grey thing linearly rather than squared, and a chroma difference in a strong colour less (its
    S_C grows with chroma).
    """
    target = downsample_ab(ab, regression.shape[-2:]).float()
    return ciede2000_ab(target, regression.float() * AB_SCALE).mean() / margin


class WithColourTerms:
    """A loss plus ``weight`` x ``hue_family_loss``, ``neutral_weight`` x ``neutral_loss``,
    ``vivid_weight`` x ``vivid_loss`` and ``de00_weight`` x ``de00_loss`` on the regression (the
    last two channels)."""

    def __init__(self, base, weight: float, by_angle: bool = False, neutral_weight: float = 0.0,
                 vivid_weight: float = 0.0, de00_weight: float = 0.0) -> None:
        self.base = base
        self.weight = weight
        self.by_angle = by_angle
        self.neutral_weight = neutral_weight
        self.vivid_weight = vivid_weight
        self.de00_weight = de00_weight

    def to(self, device: torch.device) -> WithColourTerms:
        if hasattr(self.base, "to"):
            self.base.to(device)
        return self

    def __call__(self, head_output: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        regression = head_output[:, -2:]
        loss = self.base(head_output, ab)
        if self.weight:
            loss = loss + self.weight * hue_family_loss(regression, ab, by_angle=self.by_angle)
        if self.neutral_weight:
            loss = loss + self.neutral_weight * neutral_loss(regression, ab)
        if self.vivid_weight:
            loss = loss + self.vivid_weight * vivid_loss(regression, ab)
        if self.de00_weight:
            loss = loss + self.de00_weight * de00_loss(regression, ab)
        return loss
