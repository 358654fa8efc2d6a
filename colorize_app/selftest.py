"""`colorize-app --self-test`: check an installation or a packaged bundle without a screen.

It loads the shipped model, colorizes the bundled sample photo into a temporary folder, reads the
results back and checks them: same size, the original's lightness kept, actually in colour. It
uses the core only (no Qt), so it runs on a build server with no display. Exit status: 0 passed,
1 a check or a step failed, 2 no model is installed (a build that forgot the weights, or a source
checkout before training has shipped them).

The sample is found by ``core.assets`` in the package ``colorize_app.resources``, which is where
both ``pip install`` (the top-level ``resources/`` folder, mapped by pyproject.toml) and the
PyInstaller spec (datas) put it.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from colorize_app import APP_NAME, __version__
from colorize_app.core.assets import resource

logger = logging.getLogger(__name__)

PASSED, FAILED, NO_MODEL = 0, 1, 2
SAMPLE_PHOTO = resource("sample.jpg")
# Rounding to 8 bits moves CIE L by at most about half a unit; 1.0 leaves room for nothing else.
MAX_LIGHTNESS_DIFF = 1.0
# The JPEG copy also carries compression loss, so only its mean lightness is held to a limit.
MAX_JPEG_MEAN_LIGHTNESS_DIFF = 2.0
# Mean Lab chroma of the result. A gray photo has about 0; any working model, even a randomly
# initialised one, gives several units; a model that learned nothing but gray gives below 1.
MIN_MEAN_CHROMA = 2.0


class CheckFailed(Exception):
    """One of the self-test's checks did not hold; the message says which and by how much."""


def run_self_test(weights: str | Path | None = None, *, device: str = "auto",
                  sample: str | Path | None = None, out: TextIO | None = None) -> int:
    """Colorize the sample photo with the installed (or given) model and check the result.

    Prints a few lines (model, device, timings, PASS or FAIL) to ``out`` (standard output by
    default) and returns the exit status: 0 passed, 1 failed, 2 no model installed.
    """
    out = out or sys.stdout
    sample = Path(sample) if sample is not None else SAMPLE_PHOTO
    say = _printer(out)
    say(f"{APP_NAME} {__version__} self-test")
    try:
        return _run(weights, device, sample, say)
    except CheckFailed as exc:
        say(f"FAIL: {exc}")
        return FAILED
    except Exception as exc:  # a broken bundle shows up here (a missing library or data file)
        logger.debug("self-test error", exc_info=True)
        say(f"FAIL: {type(exc).__name__}: {exc}")
        return FAILED


def _run(weights, device: str, sample: Path, say) -> int:
    # The clock starts before the imports: torch's take seconds, and "in all" is what a person
    # waits for (only the interpreter's own start is left out).
    started = time.perf_counter()
    # Imported here so that a bundle missing torch or OpenCV still prints FAIL with the reason.
    from colorize_app.core.device import describe, resolve_device
    from colorize_app.core.errors import ModelNotInstalledError
    from colorize_app.core.imageio import read_image  # noqa: F401 (OpenCV and Pillow, timed here)
    from colorize_app.core.weights import load_model

    imported = time.perf_counter()
    target = resolve_device(device)
    try:
        model = load_model(weights, device=target)
    except ModelNotInstalledError as exc:
        say(f"no model installed: {exc}")
        say("NO MODEL (exit status 2): the program runs, but there is nothing to colorize with.")
        return NO_MODEL
    loaded = time.perf_counter()
    say(f"  model:   {_model_name(model)} ({model.num_parameters / 1e6:.1f} M parameters, "
        f"{Path(model.weights_path).name})")
    say(f"  device:  {describe(target)}")
    if not sample.is_file():
        raise CheckFailed(f"the sample photo is missing ({sample}); the build left out resources/.")
    findings, timings = _colorize_and_check(model, sample)
    timings = {"imports": imported - started, "load model": loaded - imported, **timings}
    say("  timings: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items()))
    for line in findings:
        say(f"  checked: {line}")
    say(f"PASS ({time.perf_counter() - started:.1f} s in all)")
    return PASSED


def _colorize_and_check(model, sample: Path) -> tuple[list[str], dict[str, float]]:
    """Colorize ``sample`` into a temporary folder, re-read the results and check them."""
    import numpy as np

    from colorize_app.core.colour import lightness, rgb_to_lab
    from colorize_app.core.imageio import read_image, write_image
    from colorize_app.core.pipeline import colorize

    t0 = time.perf_counter()
    original = read_image(sample)
    t1 = time.perf_counter()
    result = colorize(original.pixels, model)
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="colorize-self-test-") as tmp:
        # PNG for the exact checks; JPEG "like the original", as the window saves it.
        png = read_image(write_image(Path(tmp) / f"{sample.stem}_colorized.png", result)).pixels
        jpeg = read_image(write_image(Path(tmp) / f"{sample.stem}_colorized.jpg", result, like=original))
    t3 = time.perf_counter()

    height, width = original.pixels.shape[:2]
    for name, pixels in (("PNG", png), ("JPEG", jpeg.pixels)):
        if pixels.shape != (height, width, 3):
            raise CheckFailed(f"the {name} result is {_shape(pixels)}, expected {width}x{height}x3.")
    source_l = lightness(original.pixels)
    l_diff = float(np.abs(lightness(png) - source_l).max())
    if not l_diff <= MAX_LIGHTNESS_DIFF:
        raise CheckFailed(f"the result's lightness differs from the original's by up to {l_diff:.2f} "
                          f"(allowed {MAX_LIGHTNESS_DIFF}).")
    jpeg_diff = float(np.abs(lightness(jpeg.pixels) - source_l).mean())
    if not jpeg_diff <= MAX_JPEG_MEAN_LIGHTNESS_DIFF:
        raise CheckFailed(f"the saved JPEG's lightness differs from the original's by {jpeg_diff:.2f} "
                          f"on average (allowed {MAX_JPEG_MEAN_LIGHTNESS_DIFF}).")
    ab = rgb_to_lab(png)[:, :, 1:]
    chroma = float(np.hypot(ab[:, :, 0], ab[:, :, 1]).mean())
    if not chroma >= MIN_MEAN_CHROMA:
        raise CheckFailed(f"the result is barely coloured: mean chroma {chroma:.2f} "
                          f"(at least {MIN_MEAN_CHROMA} expected).")
    findings = [
        f"{sample.name} {width}x{height} -> {width}x{height} RGB, saved as PNG and JPEG and read back",
        f"lightness kept: largest difference {l_diff:.2f} (limit {MAX_LIGHTNESS_DIFF}), "
        f"JPEG mean {jpeg_diff:.2f} (limit {MAX_JPEG_MEAN_LIGHTNESS_DIFF})",
        f"in colour: mean chroma {chroma:.1f} (at least {MIN_MEAN_CHROMA})",
    ]
    return findings, {"read": t1 - t0, "colorize": t2 - t1, "write and re-read": t3 - t2}


def _model_name(model) -> str:
    training = (getattr(model, "metadata", None) or {}).get("training") or {}
    return str(training.get("name") or Path(model.weights_path).stem)


def _shape(pixels) -> str:
    return "x".join(str(n) for n in (pixels.shape[1], pixels.shape[0], *pixels.shape[2:]))


def _printer(out: TextIO):
    def say(line: str) -> None:
        # A windowed Windows build has no console: print() to None is a no-op, not a crash.
        print(line, file=out, flush=True)

    return say


def main(argv: list[str] | None = None) -> int:
    """``python -m colorize_app.selftest [WEIGHTS]``: the same check without the window's launcher."""
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING)
    return run_self_test(args[0] if args else None)


if __name__ == "__main__":
    sys.exit(main())
