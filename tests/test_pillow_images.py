"""Hostile input at scale: every JPEG, PNG, TIFF, BMP and WebP among Pillow's own test images
(hundreds of odd, broken and crafted files) through the real `colorize` command.

The images come from Pillow's source distribution for the installed version, downloaded once
with pip into a cache folder outside the repository (``$COLORIZE_PILLOW_TESTS``, by default
``~/.cache/colorize/pillow-tests``); without it (offline) the test is skipped and says why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path

import PIL
import pytest
from photos import digest
from PIL import Image

from colorize_app.core.imageio import EXTENSIONS

CACHE = Path(os.environ.get("COLORIZE_PILLOW_TESTS", Path.home() / ".cache" / "colorize" / "pillow-tests"))


def pillow_test_images() -> Path | str:
    """The cached Tests/images folder of the installed Pillow's sdist, or why there is none."""
    version = PIL.__version__
    images = CACHE / f"pillow-{version}" / "Tests" / "images"
    if images.is_dir():
        return images
    CACHE.mkdir(parents=True, exist_ok=True)
    sdists = sorted(CACHE.glob(f"[Pp]illow-{version}.tar.gz"))
    if not sdists:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                   f"pillow=={version}", "-d", str(CACHE)]  # fmt: skip
        try:
            subprocess.run(command, capture_output=True, timeout=300, check=True)
        except (OSError, subprocess.SubprocessError) as e:
            return f"Pillow {version}'s source distribution could not be downloaded ({e})"
        sdists = sorted(CACHE.glob(f"[Pp]illow-{version}.tar.gz"))
        if not sdists:
            return f"pip did not leave pillow-{version}.tar.gz in {CACHE}"
    with tarfile.open(sdists[0]) as archive:
        members = [m for m in archive.getmembers()
                   if m.isfile() and "/Tests/images/" in m.name]  # fmt: skip
        for member in members:  # the folder inside may be Pillow- or pillow-
            member.name = f"pillow-{version}/" + member.name.split("/", 1)[1]
        archive.extractall(CACHE, members=members, filter="data")
    return images if images.is_dir() else f"no Tests/images in {sdists[0]}"


@pytest.fixture(scope="module")
def album(tmp_path_factory):
    images = pillow_test_images()
    if isinstance(images, str):
        pytest.skip(images)
    root = tmp_path_factory.mktemp("pillow") / "album"
    for path in sorted(images.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.suffix.lower() in EXTENSIONS:
            target = root / path.relative_to(images)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return root


def test_every_pillow_test_image_ends_in_a_readable_result_or_a_sentence(album, tiny_weights):
    originals = {p: digest(p) for p in album.rglob("*") if p.is_file()}
    assert len(originals) > 500
    out = album.parent / "out"
    command = [sys.executable, "-m", "colorize_app.cli", str(album), "-r", "-o", str(out),
               "--weights", str(tiny_weights), "--render-size", "16"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONWARNINGS": "default"})  # fmt: skip
    text = result.stdout + result.stderr
    assert result.returncode in (0, 1), text[-3000:]
    assert "Traceback" not in text
    assert not re.search(r"^(libpng |Corrupt JPEG|\S+\.tiff?: )", result.stderr, re.M)  # raw C lines
    assert "unexpected error" not in text
    done, skipped, failed = map(int, re.search(r"Colorized (\d+), skipped (\d+), failed (\d+)\.",
                                               result.stdout).groups())  # fmt: skip
    assert done + skipped + failed == len(originals)
    failures = result.stdout.split("\nFailed:\n", 1)[1].splitlines() if failed else []
    assert len(failures) == failed
    for line in failures:  # a sentence that names the file
        assert str(album) in line, line
        assert line.rstrip().endswith((".", ")")), line
    assert {p: digest(p) for p in originals} == originals
    results = [p for p in out.rglob("*") if p.is_file()]
    assert len(results) == done
    with warnings.catch_warnings():  # damaged EXIF carried over from a test image is its own
        warnings.simplefilter("ignore")
        for path in results:
            with Image.open(path) as image:
                image.load()
