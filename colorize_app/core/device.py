"""Which device runs the network: CUDA when present, Apple's MPS, else the CPU; or the user's choice."""

from __future__ import annotations

import torch

from .errors import ColorizeError
from .vocabulary import DEVICES as CHOICES


def cuda_available() -> bool:
    return torch.cuda.is_available()


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """Turn "auto", "cpu", "cuda" or "mps" into a torch.device; a forced device must exist."""
    if isinstance(name, torch.device):
        return name
    name = (name or "auto").lower()
    if name not in CHOICES:
        raise ColorizeError(f"Unknown device {name!r}; choose one of {', '.join(CHOICES)}.")
    if name == "auto":
        if cuda_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not cuda_available():
        raise ColorizeError("A CUDA GPU was asked for, but PyTorch sees none on this computer.")
    if name == "mps" and not mps_available():
        raise ColorizeError("Apple's MPS was asked for, but it is not available on this computer.")
    return torch.device(name)


def describe(device: torch.device) -> str:
    """A short human name for the status bar: "CPU", "GPU (NVIDIA H200)", "Apple GPU"."""
    if device.type == "cuda":
        return f"GPU ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple GPU"
    return "CPU"
