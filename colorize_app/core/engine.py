"""The network as the runners use it: loaded once, on the device asked for, predicting the colour
of one photo for a job's options, and moving to the CPU when a GPU runs out of memory.

The command line and the window's worker hold one `Engine` each and hand `engine.predict` to
`job.run_job` or `batch.run_batch`; everything torch-specific the runners need is here.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from colorize_app.core import weights
from colorize_app.core.device import cuda_available, describe, mps_available, resolve_device
from colorize_app.core.hints import Hint
from colorize_app.core.job import JobOptions
from colorize_app.core.pipeline import predict_chroma
from colorize_app.core.vocabulary import DEFAULT_DEVICE, GPU_DEVICES

logger = logging.getLogger(__name__)

FALLBACK_NOTICE = "The GPU ran out of memory; continuing on the CPU."
NO_HINTS_NOTICE = ("This model does not take colour hints; photos with hints are colorized "
                   "without them.")


def batch_threads() -> int:
    """Torch threads for a batch: every core but one, which decoding, encoding and the window use.

    Measured on 2 shared cores: with every core busy, torch's threads wait on each other and the
    network took 2x longer with 2 threads than with 1, the batch 2.6x.
    """
    return max(1, (os.cpu_count() or 1) - 1)


def default_threads() -> int | None:
    """``batch_threads()``, unless OMP_NUM_THREADS says how many (None: leave torch's choice)."""
    return None if "OMP_NUM_THREADS" in os.environ else batch_threads()


def _taking_turns(method):
    """``method`` run by one thread at a time (per Engine)."""

    @functools.wraps(method)
    def one_at_a_time(self, *args, **kwargs):
        with self._turn:
            return method(self, *args, **kwargs)

    return one_at_a_time


class Engine:
    """A model loaded lazily from ``weights`` (None: the installed one) on first use.

    ``on_notice(sentence)`` hears what a user should be told, e.g. a fall back to the CPU.
    ``threads``: torch's thread count, set as the model loads (it is process-wide); None leaves
    it. ``load`` and ``predict`` may be called from several threads (a batch predicts the next
    photo on its reader thread): they take turns.
    """

    def __init__(self, weights_path: str | Path | None = None, *,
                 on_notice: Callable[[str], None] | None = None,
                 threads: int | None = None) -> None:  # fmt: skip
        self._weights = weights_path
        self._on_notice = on_notice
        self._threads = threads
        self.model = None
        self.device: torch.device | None = None
        self._cpu_fallback = False  # the GPU ran out of memory once: stay on the CPU
        self._told_no_hints = False
        self._turn = threading.RLock()  # load and predict: one thread at a time

    @_taking_turns
    def load(self, device: str = DEFAULT_DEVICE):
        """The model, on ``device`` (one of vocabulary.DEVICES); loads or moves it as needed.

        Raises WeightsError (ModelNotInstalledError) when there is no usable model, and
        ColorizeError when a GPU is asked for that is not there.
        """
        target = torch.device("cpu") if self._cpu_fallback else resolve_device(device)
        if self.model is None:
            if self._threads:
                torch.set_num_threads(self._threads)
            self.model = weights.load_model(self._weights, device=target)
            self.device = target
        elif target != self.device:
            self._move(target)
        return self.model

    @_taking_turns
    def predict(self, pixels: np.ndarray, options: JobOptions, hints: tuple[Hint, ...] = ()) -> np.ndarray:
        """``pipeline.predict_chroma`` of ``pixels`` with ``options`` and a photo's ``hints``:
        float32 h x w x 2. A model without hint input colorizes without them, and says so once."""
        model = self.load(options.device)
        hints = list(hints) or None
        if hints and not self.takes_hints() and not self._told_no_hints:
            self._told_no_hints = True
            logger.info(NO_HINTS_NOTICE)  # the user hears it through on_notice
            if self._on_notice is not None:
                self._on_notice(NO_HINTS_NOTICE)
        try:
            return _on_cpu_memory(predict_chroma, pixels, model, render_size=options.render_size,
                                  hints=hints)  # fmt: skip
        except RuntimeError as exc:  # torch.cuda.OutOfMemoryError is one
            if self.device is None or self.device.type == "cpu" or not _out_of_memory(exc):
                raise
            logger.warning("Out of GPU memory; falling back to the CPU")
            self._cpu_fallback = True
            self._move(torch.device("cpu"))
            if self._on_notice is not None:
                self._on_notice(FALLBACK_NOTICE)
            return _on_cpu_memory(predict_chroma, pixels, self.model,
                                  render_size=options.render_size, hints=hints)  # fmt: skip

    def takes_hints(self) -> bool:
        """True when the loaded model reads colour hints (False before it is loaded)."""
        config = getattr(self.model, "config", None)
        return bool(getattr(config, "takes_hints", False))

    def describe(self) -> dict:
        """Plain data about the loaded model for the window: name, device, model card, GPU."""
        meta = getattr(self.model, "metadata", {}) or {}
        training = meta.get("training") or {}
        path = getattr(self.model, "weights_path", None)
        name = training.get("name") or (Path(path).stem if path else "model")
        return {
            "name": str(name),
            "device": self.device_name(),
            "summary": dict(training),  # plain JSON from the file: the model card
            "config": meta.get("model_config") or {},
            "path": str(path or ""),
            "gpu": available_gpu(),
            "takes_hints": self.takes_hints(),
        }

    def device_name(self) -> str:
        """"CPU", "GPU (NVIDIA H200)", ...; "" before the model is loaded."""
        return describe(self.device) if self.device is not None else ""

    def _move(self, device: torch.device) -> None:
        self.device = device
        self.model.to(device)
        if device.type == "cpu" and torch.cuda.is_available():
            torch.cuda.empty_cache()


def available_gpu() -> str:
    """The GPU device PyTorch sees ("cuda" or "mps", as in vocabulary.GPU_DEVICES), or ""."""
    if cuda_available():
        return GPU_DEVICES[0]
    if mps_available():
        return GPU_DEVICES[1]
    return ""


def _out_of_memory(exc: BaseException) -> bool:
    return "out of memory" in str(exc).lower()


def _on_cpu_memory(predict, *args, **kwargs):
    """``predict(*args, **kwargs)``, with PyTorch's "DefaultCPUAllocator: can't allocate memory"
    (a RuntimeError) raised as the MemoryError it is: the job then says so in a sentence."""
    try:
        return predict(*args, **kwargs)
    except RuntimeError as exc:
        if "can't allocate memory" in str(exc):
            raise MemoryError(str(exc)) from exc
        raise
