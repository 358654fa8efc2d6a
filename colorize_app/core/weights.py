"""Weights files: ``.safetensors`` tensors plus JSON metadata. Loading never unpickles anything.

The metadata (under the ``colorize`` key of the safetensors header) holds the format version,
the model config and a free-form training summary, so a file is self-describing.

Format versions: 1, the first model (lightness in); 2 adds ``in_channels`` to the model config
(4 for a network that takes colour hints); 3 adds ``semantic`` and ``semantic_mid`` (the third
model's ImageNet branch, whose weights are tensors of the file like any other); 4 adds
``hint_attention``. Earlier files still load: their config simply has no ``in_channels`` (1),
``semantic`` ("none") or ``hint_attention`` (false). A file is written in the earliest format
that describes its model, so a network without hint attention stays readable by the releases
that read format 3.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .assets import DEFAULT_WEIGHTS_NAME, default_weights_path
from .atomic import temp_prefix
from .errors import ModelNotInstalledError, WeightsError
from .files import open_regular
from .model import ColorizerNet, ModelConfig

FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
METADATA_KEY = "colorize"
__all__ = ["DEFAULT_WEIGHTS_NAME", "default_weights_path", "load_model", "read_metadata", "save_weights"]
MAX_HEADER = 100_000_000  # bytes of JSON before the tensors; ours is a few kB
LOADABLE_FLOATS = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
# What a weights file may ask for: (type, smallest, largest) per numeric setting, checked before
# anything is built, so a crafted file cannot ask for a 27 GB decoder. Add new settings here.
CONFIG_RANGES: dict[str, tuple[type, float, float]] = {
    "cut_after": (int, 1, 4),
    "out_stride": (int, 1, 4),
    "decoder_width": (int, 32, 1024),
    "bin_grid": (int, 5, 50),
    "temperature": (float, 0.01, 10.0),
    "chroma_gain": (float, 0.1, 10.0),
    "in_channels": (int, 1, 4),  # ModelConfig then allows 1 or 4 (format 2)
    "blend": (float, 0.0, 1.0),
}


def save_weights(path: str | os.PathLike, model: ColorizerNet, *, metadata: dict | None = None,
                 half: bool = False) -> Path:
    """Write ``model``'s weights atomically with its config and ``metadata`` (a JSON-able dict);
    ``half`` stores floating-point tensors as float16 (half the size; loading widens them)."""
    path = Path(path)
    config = model.config.to_dict()
    version = FORMAT_VERSION if config["hint_attention"] else 3
    if version == 3:
        del config["hint_attention"]
    header = {"format_version": version, "model_config": config, "training": metadata or {}}
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={METADATA_KEY: json.dumps(header)})
        # After writing: mkstemp makes the file private, and safetensors may write it anew;
        # weights are meant to be shared and shipped.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    """The JSON metadata of a weights file; raises WeightsError naming the file and the problem."""
    path = _existing(path)
    try:
        fd = open_regular(path)  # never waits: a weights "file" may be a pipe or /proc/kmsg
    except OSError as exc:
        raise WeightsError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    try:
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            raw = fh.read(8) if size >= 8 else b""
            if len(raw) < 8:
                raise WeightsError(f"{path}: the file is empty or truncated, not a weights file.")
            header_len = int.from_bytes(raw, "little")
            if header_len > MAX_HEADER or header_len > size - 8:
                raise WeightsError(f"{path}: not a .safetensors weights file, or it is truncated.")
            header = json.loads(fh.read(header_len))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise WeightsError(f"{path}: not a .safetensors weights file (unreadable header).") from exc
    except OSError as exc:
        raise WeightsError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    extra = header.get("__metadata__") if isinstance(header, dict) else None
    if extra is not None and not isinstance(extra, dict):
        raise WeightsError(f"{path}: not usable: its metadata is not a JSON object.")
    meta = (extra or {}).get(METADATA_KEY)
    if meta is None:
        raise WeightsError(f"{path}: a safetensors file, but not Colorize weights (no metadata).")
    try:
        data = json.loads(meta) if isinstance(meta, str) else None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise WeightsError(f"{path}: not usable: its Colorize metadata is damaged.") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: not usable: its Colorize metadata is not a JSON object.")
    version = data.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:  # true == 1 in Python
        raise WeightsError(
            f"{path}: weights format version {version!r}; this Colorize reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}."
        )
    return data


def load_model(path: str | os.PathLike | None = None, *, device: str | torch.device = "cpu") -> ColorizerNet:
    """Build the model a weights file describes and load it strictly, in eval mode on ``device``.

    With no path, the model shipped inside the package is used; if there is none,
    ModelNotInstalledError says how to get one.
    """
    if path is None:
        path = default_weights_path()
        if not path.is_file():
            raise ModelNotInstalledError(
                f"No colorization model is installed (looked for {path}). Train one with "
                "`python -m training.train` and export it (see the README, 'Training your own "
                "model'), or pass a weights file with --weights."
            )
    path = _existing(path)
    meta = read_metadata(path)
    try:
        check_config(meta.get("model_config"))
        config = ModelConfig.from_dict(meta["model_config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{path}: not usable: the model description is invalid ({exc}).") from exc
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{path}: the weights are damaged or truncated ({exc}).") from exc
    with torch.device("meta"):  # no random initial values to compute and throw away (0.1 s)
        model = ColorizerNet(config)
    expected = model.state_dict()
    _check_tensors(path, tensors, expected)
    tensors = {name: tensor.to(expected[name].dtype) if name in expected else tensor
               for name, tensor in tensors.items()}  # fmt: skip
    try:
        model.load_state_dict(tensors, strict=True, assign=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0:2]
        raise WeightsError(f"{path}: the weights do not match the model they describe ({' '.join(first)}).") from exc
    model.weights_path = path
    model.metadata = meta
    return model.eval().to(device)


def _check_tensors(path: Path, tensors: dict, expected: dict) -> None:
    """Raise WeightsError unless every tensor has a type the network computes with (float32, or
    float16, bfloat16, float64, converted on loading) where it has a float, and exactly its own
    type elsewhere (BatchNorm's counters), and holds only finite numbers; before anything loads."""
    for name, tensor in tensors.items():
        own = expected.get(name)
        if own is None:
            continue  # load_state_dict(strict=True) names what does not belong
        usable = tensor.dtype in LOADABLE_FLOATS if own.is_floating_point() else tensor.dtype == own.dtype
        if not usable:
            raise WeightsError(f"{path}: not usable: {name} holds {str(tensor.dtype).removeprefix('torch.')} "
                               f"values; this Colorize computes with "
                               f"{str(own.dtype).removeprefix('torch.')}.")  # fmt: skip
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise WeightsError(f"{path}: not usable: the weights hold values that are not numbers ({name}).")


def check_config(config) -> None:
    """Raise ValueError unless ``config`` is a dict whose settings have sane types and ranges
    (see CONFIG_RANGES); run before any model is built from a file."""
    if not isinstance(config, dict):
        raise ValueError("not a JSON object")
    for name, (kind, low, high) in CONFIG_RANGES.items():
        if name not in config:
            continue
        value = config[name]
        numeric = (int,) if kind is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, numeric):
            raise ValueError(f"{name} must be a {'whole ' if kind is int else ''}number, not {value!r}")
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"{name} must be from {low} to {high}, not {value!r}")
    for name in ("backbone", "head", "semantic"):
        if name in config and not isinstance(config[name], str):
            raise ValueError(f"{name} must be a name, not {config[name]!r}")
    for name in ("semantic_mid", "hint_attention"):
        if name in config and not isinstance(config[name], bool):
            raise ValueError(f"{name} must be true or false, not {config[name]!r}")


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such weights file.") from None
    except OSError as exc:
        raise WeightsError(f"{path}: cannot be read ({exc.strerror}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise WeightsError(f"{path}: is a folder, not a weights file.")
    if not stat.S_ISREG(info.st_mode):
        raise WeightsError(f"{path}: is not a regular file (a device or a pipe), not a weights file.")
    return path
