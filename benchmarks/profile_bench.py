"""What a profile costs a scan as it is read (core.profiles): a gray profile's table built once
per profile, then looked up, against LittleCMS converting the whole image (ImageCms.profileToProfile
to sRGB, 8 bits only); an Adobe RGB photo (8 and 16 bits, neutral and in colour). Prints figures;
asserts nothing.

    .venv/bin/python benchmarks/profile_bench.py [--megapixels 50]
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from colorize_app.core import profiles

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
import provenance_bench  # noqa: E402  (beside this file: its timer)
from photos import adobe_rgb_profile, gray_profile  # noqa: E402


def timed(function, runs: int = 3) -> float:
    """provenance_bench's median timer, three runs by default: a 50 MP scan is slow."""
    return provenance_bench.timed(function, runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megapixels", type=float, default=50)
    args = parser.parse_args()
    width = int((args.megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(args.megapixels * 1e6 / width)
    rng = np.random.default_rng(0)
    eight = rng.integers(0, 256, (height, width), dtype=np.uint8)
    sixteen = rng.integers(0, 65536, (height, width), dtype=np.uint16)
    icc = gray_profile(1.8)
    print(f"{width}x{height} gray ({width * height / 1e6:.0f} MP)")

    def table_once():
        profiles._gray_table.cache_clear()
        profiles._gray_table(icc)

    print(f"  table (65,536 levels through LittleCMS), once per profile: {timed(table_once) * 1e3:.1f} ms")
    profiles._gray_table(icc)
    print(f"  8-bit lookup:  {timed(lambda: profiles.to_srgb(eight.copy(), icc)) * 1e3:.0f} ms "
          f"(copy included: {timed(eight.copy) * 1e3:.0f} ms)")
    print(f"  16-bit lookup: {timed(lambda: profiles.to_srgb(sixteen, icc)) * 1e3:.0f} ms")
    with_alpha = np.dstack([eight, eight, eight, eight])
    print(f"  8-bit gray with alpha (as RGBA, told gray by its equal channels): "
          f"{timed(lambda: profiles.to_srgb(with_alpha, icc)) * 1e3:.0f} ms")
    source, srgb = ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB")
    image = Image.fromarray(eight)

    def whole():
        rgb = ImageCms.profileToProfile(image, source, srgb, outputMode="RGB")
        return np.asarray(rgb)[..., 0]

    print(f"  8-bit through profileToProfile to RGB (and its first channel): {timed(whole) * 1e3:.0f} ms")
    ours = profiles.to_srgb(eight.copy(), icc)[0]
    theirs = whole()
    print(f"  largest difference between the two, 8-bit levels: {np.abs(ours.astype(int) - theirs).max()}")
    rgb_figures(height, width, rng)


def rgb_figures(height: int, width: int, rng: np.random.Generator) -> None:
    adobe, srgb = adobe_rgb_profile(), ImageCms.createProfile("sRGB")
    source = ImageCms.ImageCmsProfile(io.BytesIO(adobe))
    colour = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    ours = timed(lambda: profiles.to_srgb(colour.copy(), adobe))
    theirs = timed(lambda: ImageCms.profileToProfile(Image.fromarray(colour), source, srgb))
    print(f"  Adobe RGB, 8-bit colour: {ours * 1e3:.0f} ms; profileToProfile {theirs * 1e3:.0f} ms")
    neutral = np.dstack([colour[..., 0]] * 3)
    print(f"  Adobe RGB, 8-bit neutral (R = G = B): "
          f"{timed(lambda: profiles.to_srgb(neutral.copy(), adobe)) * 1e3:.0f} ms")
    colour16 = rng.integers(0, 65536, (height, width, 3), dtype=np.uint16)
    print(f"  Adobe RGB, 16-bit colour: {timed(lambda: profiles.to_srgb(colour16, adobe), 1) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
