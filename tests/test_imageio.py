"""Reading and writing photos: what a user would notice if it went wrong."""

from __future__ import annotations

import io
import os
import struct
import zlib

import cv2
import numpy as np
import pytest
from photos import (
    adobe_rgb_profile,
    digest,
    gradient,
    gray_profile,
    make_unwritable,
    opened,
    save_photo,
)
from PIL import ExifTags, Image, ImageCms, ImageOps, TiffImagePlugin

from colorize_app.core import display, imageio, metadata
from colorize_app.core.colour import lightness
from colorize_app.core.errors import ImageReadError, ImageTooLargeError, ImageWriteError
from colorize_app.core.imageio import ImageData, read_image, write_image
from colorize_app.core.job import Job, JobOptions, run_job
from colorize_app.core.vocabulary import Status

ORIENTATION = 0x0112
MAKE = 0x010F


def exif_with(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "Colorize Test Camera"
    return exif.tobytes()


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# --- orientation ---------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_pillow_does(tmp_path, orientation):
    path = save_photo(tmp_path / "o.png", exif=exif_with(orientation))
    expected = np.asarray(ImageOps.exif_transpose(opened(path)))
    image = read_image(path)
    assert image.pixels.shape == expected.shape
    np.testing.assert_array_equal(image.pixels, expected)
    exif = Image.Exif()
    exif.load(image.exif)
    assert exif[ORIENTATION] == 1
    assert exif[MAKE] == "Colorize Test Camera"


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_jpeg_orientation_applied_once_and_output_stays_upright(tmp_path, orientation):
    path = save_photo(tmp_path / "o.jpg", size=(60, 90), exif=exif_with(orientation), quality=98)
    expected = np.asarray(ImageOps.exif_transpose(opened(path)), dtype=np.int16)
    image = read_image(path)
    assert image.pixels.shape == expected.shape
    assert np.abs(image.pixels.astype(np.int16) - expected).max() <= 3  # decoder rounding only

    out = write_image(tmp_path / "out.jpg", image.pixels, like=image)
    again = read_image(out)
    assert again.pixels.shape == image.pixels.shape  # not rotated a second time by a viewer
    written = opened(out).getexif()
    assert written[ORIENTATION] == 1
    assert written[MAKE] == "Colorize Test Camera"


def exif_with_thumbnail(orientation: int) -> bytes:
    """A phone's EXIF: IFD0 with the orientation, then IFD1 pointing at a small JPEG thumbnail."""
    thumb = io.BytesIO()
    Image.new("L", (16, 8), 90).save(thumb, "JPEG")
    thumb = thumb.getvalue()
    ifd0 = struct.pack("<HHHIHHI", 1, ORIENTATION, 3, 1, orientation, 0, 26)  # next IFD at 26
    ifd1 = struct.pack("<HHHIIHHIII", 2, 0x0201, 4, 1, 56, 0x0202, 4, 1, len(thumb), 0)
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1 + thumb


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_result_does_not_carry_the_originals_thumbnail(tmp_path, suffix):
    # File browsers and cameras show the EXIF thumbnail in place of the photo: the original's is
    # gray, and sideways once the result's orientation reads 1.
    path = save_photo(tmp_path / f"phone{suffix}", exif=exif_with_thumbnail(6))
    assert opened(path).getexif().get_ifd(ExifTags.IFD.IFD1)  # the test photo has one
    image = read_image(path)
    out = opened(write_image(tmp_path / f"out{suffix}", image.pixels, like=image)).getexif()
    assert out.get_ifd(ExifTags.IFD.IFD1) == {}
    assert out[ORIENTATION] == 1


def tiff_tags(orientation: int) -> TiffImagePlugin.ImageFileDirectory_v2:
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[ORIENTATION] = orientation
    return tags


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("mode", ["RGB", "CMYK", "I;16"])
def test_tiff_orientation_is_applied_once(tmp_path, orientation, mode):
    # libtiff and Pillow 13 turn a TIFF upright while decoding: turning it again showed a scan
    # upside down or mirrored, and the saved result kept it so.
    stored = np.zeros((20, 40), np.uint8)
    stored[:4, :6], stored[-5:, :3] = 255, 128  # no two of the eight ways round look alike
    Image.fromarray(stored).save(tmp_path / "o.png", exif=exif_with(orientation))
    Image.fromarray(stored).convert(mode).save(tmp_path / "o.tif", tiffinfo=tiff_tags(orientation))
    expected = read_image(tmp_path / "o.png").pixels  # as Pillow turns it (the test above)
    got = read_image(tmp_path / "o.tif").pixels
    got = got if got.ndim == 2 else got[..., 0]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got > got.max() * 0.75, expected > 191)
    np.testing.assert_array_equal(got > got.max() * 0.25, expected > 64)


def turned_by_tag(data: bytes, orientation: int) -> bytes:
    """A TIFF's bytes with its Orientation tag set, as scan software that turns by tag writes it."""
    import pyexiv2

    image = pyexiv2.ImageData(data)
    try:
        image.modify_exif({"Exif.Image.Orientation": str(orientation)})
        return image.get_bytes()
    finally:
        image.close()


@pytest.mark.parametrize("orientation", range(2, 9))
@pytest.mark.parametrize("channels", [3, 4])
def test_a_turned_sixteen_bit_tiff_keeps_its_sixteen_bits(tmp_path, orientation, channels):
    # Turned TIFFs went to Pillow, whose RGB conversion cut a 16-bit scan to 8 bits: 256 levels
    # left of 65,536, and the result was saved in 8 bits.
    stored = gradient(channels=channels, dtype=np.uint16)
    ok, tiff = cv2.imencode(".tiff", stored[..., [2, 1, 0, 3][:channels]])
    path = tmp_path / "scan.tif"
    path.write_bytes(turned_by_tag(tiff.tobytes(), orientation))
    image = read_image(path)
    assert image.pixels.dtype == np.uint16
    np.testing.assert_array_equal(image.pixels, metadata.apply_orientation(stored, orientation))
    out = write_image(tmp_path / "out.tif", image.pixels, like=image)
    np.testing.assert_array_equal(read_image(out).pixels, image.pixels)


# --- modes and bit depths ------------------------------------------------------------------


def test_alpha_is_kept_from_png_to_png(tmp_path):
    rgba = gradient(channels=4)
    Image.fromarray(rgba).save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(image.pixels, rgba)
    out = write_image(tmp_path / "b.png", image.pixels, like=image)
    np.testing.assert_array_equal(np.asarray(opened(out)), rgba)


def test_jpeg_output_drops_alpha(tmp_path):
    out = write_image(tmp_path / "x.jpg", gradient(channels=4))
    assert opened(out).mode == "RGB"


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_in_sixteen_bit_out(tmp_path, channels, suffix):
    pixels = gradient(channels=channels, dtype=np.uint16)
    bgr = pixels if channels == 1 else pixels[..., [2, 1, 0, 3][:channels]]
    assert cv2.imwrite(str(tmp_path / f"in{suffix}"), bgr)
    image = read_image(tmp_path / f"in{suffix}")
    assert image.pixels.dtype == np.uint16
    np.testing.assert_array_equal(image.pixels, pixels)
    out = write_image(tmp_path / f"out{suffix}", image.pixels, like=image)
    np.testing.assert_array_equal(read_image(out).pixels, pixels)


def test_sixteen_bit_png_keeps_icc_profile_and_exif(tmp_path):
    image = ImageData(gradient(dtype=np.uint16), "PNG", b"Exif\x00\x00" + exif_with(1),
                      srgb_profile(), None)  # fmt: skip
    out = write_image(tmp_path / "out.png", image.pixels, like=image)
    written = opened(out)
    assert written.info["icc_profile"] == image.icc_profile
    assert written.getexif()[MAKE] == "Colorize Test Camera"
    assert read_image(out).pixels.dtype == np.uint16


def test_jpeg_keeps_icc_profile_and_exif(tmp_path):
    icc = srgb_profile()
    path = save_photo(tmp_path / "in.jpg", exif=exif_with(6), icc_profile=icc)
    image = read_image(path)
    assert image.icc_profile == icc
    out = write_image(tmp_path / "out.jpg", image.pixels, like=image)
    assert opened(out).info["icc_profile"] == icc


DATE_TAKEN = 0x9003  # DateTimeOriginal, in the Exif sub-directory


def dated_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "Colorize Test Camera"
    exif.get_ifd(ExifTags.IFD.Exif)[DATE_TAKEN] = "1962:07:14 10:00:00"
    return exif


def test_a_tiff_with_a_date_taken_keeps_its_exif_profile_and_resolution(tmp_path):
    # libtiff cannot write the Exif sub-directory (any date taken has one), and the retry then
    # saved the result with no EXIF, no colour profile and no resolution at all.
    Image.fromarray(gradient()).save(tmp_path / "scan.tif", exif=dated_exif().tobytes(),
                                     icc_profile=srgb_profile(), dpi=(600, 600))  # fmt: skip
    image = read_image(tmp_path / "scan.tif")
    problems = []
    out = opened(
        write_image(tmp_path / "out.tif", image.pixels, like=image, on_problem=problems.append)
    )
    assert out.getexif().get_ifd(ExifTags.IFD.Exif)[DATE_TAKEN] == "1962:07:14 10:00:00"
    assert out.getexif()[MAKE] == "Colorize Test Camera"
    assert out.info["icc_profile"] == srgb_profile()
    assert out.info["dpi"] == (600, 600)
    assert problems == []


@pytest.mark.parametrize("channels", [3, 4])
def test_a_sixteen_bit_tiff_keeps_its_date_camera_and_colour_profile(tmp_path, channels):
    # OpenCV writes 16-bit TIFFs and cannot embed EXIF or a profile: an Adobe RGB scan came back
    # as a result that every program showed in sRGB, without its date or camera.
    image = ImageData(gradient(channels=channels, dtype=np.uint16), "TIFF",
                      dated_exif().tobytes(), srgb_profile(), None)  # fmt: skip
    problems = []
    path = write_image(tmp_path / "out.tif", image.pixels, like=image, on_problem=problems.append)
    out = opened(path)
    assert out.getexif().get_ifd(ExifTags.IFD.Exif)[DATE_TAKEN] == "1962:07:14 10:00:00"
    assert out.getexif()[MAKE] == "Colorize Test Camera"
    assert out.info["icc_profile"] == srgb_profile()
    np.testing.assert_array_equal(read_image(path).pixels, image.pixels)
    assert problems == []


def test_exif_that_the_tiff_writer_refuses_costs_only_the_exif_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(imageio.metadata, "without_sub_directories", lambda block: block)
    monkeypatch.setattr(imageio.exiv2, "edit", lambda data, parts: (data, {}))  # Pillow alone
    image = ImageData(gradient(), "TIFF", dated_exif().tobytes(), srgb_profile(), None)
    problems = []
    out = opened(
        write_image(tmp_path / "out.tif", image.pixels, like=image, on_problem=problems.append)
    )
    assert out.info["icc_profile"] == srgb_profile()
    assert len(problems) == 1 and "out.tif is saved without its EXIF data" in problems[0]


@pytest.mark.parametrize("failure", [MemoryError, OSError])
def test_a_result_that_cannot_be_encoded_is_not_said_to_be_saved_without_its_metadata(
    tmp_path, monkeypatch, failure
):
    # Out of memory encoding a big TIFF, Colorize encoded it three more times, each time without
    # one more part of its metadata, and told "saved without its EXIF data", "... colour
    # profile", "... resolution" of a result that was never saved.
    source = save_photo(tmp_path / "scan.tif", exif=dated_exif().tobytes(), icc_profile=srgb_profile(),
                        dpi=(300, 300))  # fmt: skip
    encodes = []

    def failing_save(self, fp, format=None, **params):
        encodes.append(sorted(params))
        raise failure()

    monkeypatch.setattr(Image.Image, "save", failing_save)
    def gray(pixels, options, hints):
        return np.zeros((8, 8, 2), np.float32)

    result = run_job(Job(source, tmp_path / "out.tif", JobOptions(provenance=False)), gray)
    assert result.status is Status.FAILED and result.note == ""
    assert not (tmp_path / "out.tif").exists()
    if failure is MemoryError:
        assert "Not enough memory" in result.reason and len(encodes) == 1


@pytest.mark.parametrize(("suffix", "dtype"), [(".jpg", np.uint8), (".png", np.uint8), (".tif", np.uint8),
                                               (".png", np.uint16), (".tif", np.uint16)])  # fmt: skip
def test_a_result_keeps_the_resolution_its_print_size_comes_from(tmp_path, suffix, dtype):
    # A scan at 300 dpi came back at 72 or 1 dpi (JPEG's JFIF density, PNG's pHYs, any 16-bit
    # TIFF): a print of the result came out several times its size.
    scan = Image.fromarray(gradient(channels=1, dtype=dtype))
    scan.save(tmp_path / f"scan{suffix}", dpi=(300, 300))
    image = read_image(tmp_path / f"scan{suffix}")
    colour = np.dstack([image.pixels] * 3)
    out = opened(write_image(tmp_path / f"out{suffix}", colour, like=image))
    assert tuple(round(v) for v in out.info["dpi"]) == (300, 300)


def test_gray_profile_is_not_put_on_a_colour_result(tmp_path):
    gray_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    gray_icc = gray_icc[:16] + b"GRAY" + gray_icc[20:]
    image = ImageData(gradient(channels=1), "JPEG", None, gray_icc, None)
    out = write_image(tmp_path / "out.jpg", gradient(), like=image)
    assert "icc_profile" not in opened(out).info


def test_sixteen_bit_result_is_rounded_to_eight_bit_where_the_format_needs_it(tmp_path):
    sixteen = gradient(dtype=np.uint16)
    out = write_image(tmp_path / "out.bmp", sixteen)
    np.testing.assert_array_equal(np.asarray(opened(out)), np.round(sixteen / 257))


@pytest.mark.parametrize("adobe", [True, False])
def test_cmyk_jpeg_matches_pillows_conversion(tmp_path, adobe):
    cmyk = Image.fromarray(gradient()).convert("CMYK")
    path = tmp_path / "cmyk.jpg"
    cmyk.save(path, quality=100)
    data = path.read_bytes()
    if not adobe:  # strip Pillow's Adobe APP14 marker: plain (non-inverted) CMYK
        at = data.find(b"\xff\xee")
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        path.write_bytes(data[:at] + data[at + 2 + length :])
    reference = np.asarray(opened(path).convert("RGB"), dtype=np.int16)
    image = read_image(path)
    assert image.pixels.shape == reference.shape
    assert np.abs(image.pixels.astype(np.int16) - reference).max() <= 1
    assert np.abs(image.pixels.astype(np.int16) - gradient()).mean() < 8  # the colours survive


def test_cmyk_tiff_is_converted_to_rgb(tmp_path):
    Image.fromarray(gradient()).convert("CMYK").save(tmp_path / "c.tif")
    image = read_image(tmp_path / "c.tif")
    assert image.pixels.shape == (48, 64, 3)
    assert image.icc_profile is None


def test_grayscale_jpeg_reads_as_two_dimensional(tmp_path):
    path = save_photo(tmp_path / "g.jpg", mode="L")
    assert read_image(path).pixels.ndim == 2


@pytest.mark.parametrize("transparency", [False, True])
def test_palette_png(tmp_path, transparency):
    palette = Image.fromarray(gradient()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    options = {"transparency": 0} if transparency else {}
    palette.save(tmp_path / "p.png", **options)
    expected = opened(tmp_path / "p.png").convert("RGBA" if transparency else "RGB")
    np.testing.assert_array_equal(read_image(tmp_path / "p.png").pixels, np.asarray(expected))


def test_gray_with_alpha_becomes_rgba(tmp_path):
    Image.fromarray(gradient()).convert("LA").save(tmp_path / "la.png")
    pixels = read_image(tmp_path / "la.png").pixels
    assert pixels.shape == (48, 64, 4)
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 2])


@pytest.mark.parametrize("suffix, fmt", [(".bmp", "BMP"), (".webp", "WEBP"), (".tiff", "TIFF"),
                                         (".jpeg", "JPEG"), (".png", "PNG")])  # fmt: skip
def test_every_format_round_trips_in_its_own_format(tmp_path, suffix, fmt):
    path = save_photo(
        tmp_path / f"in{suffix}", colour=True, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {})
    )
    image = read_image(path)
    assert image.format == fmt
    out = write_image(tmp_path / f"out{suffix}", image.pixels, like=image)
    assert opened(out).format == fmt
    diff = np.abs(read_image(out).pixels.astype(np.int16) - gradient().astype(np.int16))
    assert diff.mean() < 3


# --- colour profiles: the result shows the original's tones in a colour-managed viewer -------

STEPS = np.array([12, 30, 64, 118, 180, 230, 250], np.uint8)  # shadows to highlights


def _steps(side: int = 8) -> np.ndarray:
    return np.repeat(np.repeat(STEPS[None], side, 0), side, 1)


def _shown_lightness(path) -> np.ndarray:
    """CIE L* of each pixel as a colour-managed viewer shows the file: through its embedded
    profile, through sRGB when it has none (LittleCMS, 8-bit Lab)."""
    image = opened(path)
    icc = image.info.get("icc_profile")
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc else ImageCms.createProfile("sRGB")
    mode = "L" if image.mode in ("L", "LA") else "RGB"
    to_lab = ImageCms.buildTransform(profile, ImageCms.createProfile("LAB"), mode, "LAB")
    return np.asarray(ImageCms.applyTransform(image.convert(mode), to_lab))[..., 0] * (100 / 255)


def _colorized(photo, out):
    """The real read, compose and save, with a network that adds no colour."""
    def predict(pixels, options, hints):
        return np.zeros((4, 4, 2), np.float32)

    result = run_job(Job(photo, out, JobOptions(provenance=False)), predict)
    assert result.status is Status.DONE, result.reason
    return out


@pytest.mark.parametrize("gamma", [1.8, 2.2])
@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_a_gray_scan_with_a_gray_profile_keeps_its_tones_in_the_result(tmp_path, gamma, suffix):
    # A Gray Gamma 1.8 scan (Mac-era scanners) came back up to 7.5 L* darker in the mid-tones in
    # any colour-managed viewer, a Gray Gamma 2.2 one 3 L* lighter in the shadows: its levels
    # were read as sRGB gray, and the result cannot carry a gray profile.
    photo = tmp_path / f"scan{suffix}"
    Image.fromarray(_steps()).save(photo, icc_profile=gray_profile(gamma), quality=100)
    out = _colorized(photo, tmp_path / f"out{suffix}")
    original, result = _shown_lightness(photo)[4, 4::8], _shown_lightness(out)[4, 4::8]
    assert np.abs(result - original).max() <= 1, (original.round(1), result.round(1))


def test_a_sixteen_bit_gray_scan_with_a_gray_profile_keeps_its_tones_without_banding(tmp_path):
    ramp = np.linspace(0, 65535, 64 * 64).round().astype(np.uint16).reshape(64, 64)
    photo = tmp_path / "scan.png"
    Image.fromarray(ramp).save(photo, icc_profile=gray_profile(1.8))
    result = read_image(_colorized(photo, tmp_path / "out.png")).pixels
    assert result.dtype == np.uint16
    y = (ramp / 65535.0) ** (round(1.8 * 256) / 256)  # the profile's curve, stored in 1/256ths
    wanted = np.where(y > (6 / 29) ** 3, 116 * np.cbrt(y) - 16, y * 24389 / 27)
    assert np.abs(lightness(result) - wanted).max() < 0.05
    assert len(np.unique(result[..., 0])) > 4000  # 16-bit smoothness, not 256 steps


def test_gray_with_alpha_and_a_gray_profile_keeps_its_tones_and_transparency(tmp_path):
    alpha = np.tile(np.linspace(0, 255, _steps().shape[1]).astype(np.uint8), (8, 1))
    photo = tmp_path / "scan.png"
    Image.merge("LA", [Image.fromarray(_steps()), Image.fromarray(alpha)]).save(
        photo, icc_profile=gray_profile(1.8))  # fmt: skip
    out = _colorized(photo, tmp_path / "out.png")
    np.testing.assert_array_equal(np.asarray(opened(out))[..., 3], alpha)
    original, result = _shown_lightness(photo)[4, 4::8], _shown_lightness(out)[4, 4::8]
    assert np.abs(result - original).max() <= 1, (original.round(1), result.round(1))


def test_a_sixteen_bit_gray_scan_with_alpha_keeps_its_transparency_and_tones(tmp_path):
    gray = np.linspace(0, 65535, 64 * 64).round().astype(np.uint16).reshape(64, 64)
    alpha = gray[::-1].copy()
    # a 16-bit gray-and-alpha PNG (colour type 4), which neither Pillow nor OpenCV writes
    rows = np.dstack([gray, alpha]).astype(">u2").reshape(64, -1).view(np.uint8)
    raw = zlib.compress(np.hstack([np.zeros((64, 1), np.uint8), rows]).tobytes())
    png = b"\x89PNG\r\n\x1a\n" + metadata._png_chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 16, 4, 0, 0, 0))
    png += metadata._png_chunk(b"IDAT", raw) + metadata._png_chunk(b"IEND", b"")
    photo = tmp_path / "scan.png"
    photo.write_bytes(metadata.embed_in_png(png, None, gray_profile(1.8)))
    Image.fromarray(gray).save(tmp_path / "opaque.png", icc_profile=gray_profile(1.8))
    image, opaque = read_image(photo), read_image(tmp_path / "opaque.png")
    assert image.pixels.shape == (64, 64, 4) and image.pixels.dtype == np.uint16
    np.testing.assert_array_equal(image.pixels[..., 3], alpha)
    for c in range(3):
        np.testing.assert_array_equal(image.pixels[..., c], opaque.pixels)
    assert np.abs(opaque.pixels.astype(int) - gray).max() > 1000  # its profile was applied


def test_the_window_shows_a_gray_profiled_scan_as_its_result_will_look(tmp_path):
    # The window's original, its thumbnail and the saved result must agree in tone.
    photo = tmp_path / "scan.jpg"
    Image.fromarray(_steps(64)).save(photo, icc_profile=gray_profile(1.8), quality=100)
    shown = display.levels(read_image(photo).pixels)[0][32, 32::64]
    thumbnail = display.read_thumbnail(photo)
    step = thumbnail.shape[1] / len(STEPS)
    small = thumbnail[thumbnail.shape[0] // 2, (np.arange(len(STEPS)) * step + step / 2).astype(int)]
    result = np.asarray(opened(_colorized(photo, tmp_path / "out.jpg")))[32, 32::64, 0]
    assert np.abs(shown.astype(int) - result).max() <= 2
    assert np.abs(small.astype(int) - result).max() <= 2
    assert np.abs(shown.astype(int) - STEPS).max() > 10  # not the levels as stored


def test_a_damaged_gray_profile_is_read_as_sRGB_gray_and_said(tmp_path, caplog):
    photo = tmp_path / "scan.png"
    Image.fromarray(_steps()).save(photo, icc_profile=gray_profile(1.8)[:132] + b"\xff" * 64)
    image = read_image(photo)
    np.testing.assert_array_equal(image.pixels, _steps())
    assert "unusable gray profile" in caplog.text and "scan.png" in caplog.text


def _shown_lab(path) -> np.ndarray:
    """CIE Lab (float, HxWx3) of a colour file as a colour-managed viewer shows it."""
    image = opened(path).convert("RGB")
    icc = opened(path).info.get("icc_profile")
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc else ImageCms.createProfile("sRGB")
    to_lab = ImageCms.buildTransform(profile, ImageCms.createProfile("LAB"), "RGB", "LAB")
    lab = np.asarray(ImageCms.applyTransform(image, to_lab))
    return np.dstack([lab[..., 0] * (100 / 255), lab[..., 1:].view(np.int8)]).astype(np.float32)


def _warm(tmp_path, name, **save):
    """A mid-gray scan colorized by a network that adds one warm colour (a 20, b 30)."""
    def predict(pixels, options, hints):
        ab = np.zeros((4, 4, 2), np.float32)
        ab[..., 0], ab[..., 1] = 20, 30
        return ab

    photo = tmp_path / name
    Image.fromarray(np.full((32, 32, 3), 118, np.uint8)).save(photo, **save)
    out = tmp_path / f"out_{name}"
    assert run_job(Job(photo, out, JobOptions(provenance=False)), predict).status is Status.DONE
    return photo, out


def test_an_adobe_rgb_original_gets_the_colour_an_srgb_one_gets(tmp_path):
    # The colour was computed as sRGB numbers and the result kept its Adobe RGB tag: shown
    # through it, the same network colour came out about 24% more saturated.
    _, plain = _warm(tmp_path, "plain.png")
    photo, tagged = _warm(tmp_path, "adobe.png", icc_profile=adobe_rgb_profile())
    wanted, got = _shown_lab(plain)[16, 16], _shown_lab(tagged)[16, 16]
    assert np.abs(got[1:] - wanted[1:]).max() <= 1.5, (wanted, got)
    assert abs(got[0] - _shown_lab(photo)[16, 16, 0]) <= 1  # and the original's lightness
    assert opened(tagged).info["icc_profile"] != adobe_rgb_profile()  # tagged sRGB now


def test_an_adobe_rgb_photo_reads_as_littlecms_shows_it_in_srgb(tmp_path):
    photo = tmp_path / "colour.png"
    Image.fromarray(gradient()).save(photo, icc_profile=adobe_rgb_profile())
    image = read_image(photo)
    reference = ImageCms.profileToProfile(
        opened(photo), ImageCms.ImageCmsProfile(io.BytesIO(adobe_rgb_profile())),
        ImageCms.createProfile("sRGB"), renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )  # fmt: skip
    assert np.abs(image.pixels.astype(int) - np.asarray(reference)).max() <= 1
    assert image.icc_profile is not None
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(image.icc_profile))).startswith("sRGB")


def test_a_sixteen_bit_adobe_rgb_scan_keeps_its_tones_without_banding(tmp_path):
    ramp = np.linspace(0, 65535, 64 * 64).round().astype(np.uint16).reshape(64, 64)
    ok, png = cv2.imencode(".png", np.dstack([ramp] * 3))
    photo = tmp_path / "scan.png"
    photo.write_bytes(metadata.embed_in_png(png.tobytes(), None, adobe_rgb_profile()))
    out = _colorized(photo, tmp_path / "out.png")
    result = read_image(out).pixels
    assert result.dtype == np.uint16
    y = (ramp / 65535.0) ** (563 / 256)
    wanted = np.where(y > (6 / 29) ** 3, 116 * np.cbrt(y) - 16, y * 24389 / 27)
    assert np.abs(lightness(result) - wanted).max() < 0.05
    assert len(np.unique(result[..., 0])) > 4000
    assert opened(out).info["icc_profile"] != adobe_rgb_profile()


# --- damaged and unsupported files ---------------------------------------------------------


def test_unreadable_files_raise_read_errors_that_name_the_file(tmp_path):
    good = save_photo(tmp_path / "good.jpg", size=(200, 300)).read_bytes()
    png = save_photo(tmp_path / "good.png").read_bytes()
    cases = {
        "missing.jpg": None,
        "empty.jpg": b"",
        "text.jpg": b"this is not a photo\n" * 20,
        "truncated.jpg": good[: len(good) // 2],
        "header-only.jpg": good[:300],
        "truncated.png": png[: len(png) // 2],
        "animation.gif": None,
    }
    for name, data in cases.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
    Image.fromarray(gradient()).save(tmp_path / "animation.gif")
    (tmp_path / "folder.jpg").mkdir()
    for name in [*cases, "folder.jpg"]:
        with pytest.raises(ImageReadError) as caught:
            read_image(tmp_path / name)
        assert type(caught.value) is ImageReadError
        assert name in str(caught.value)
        assert caught.value.__cause__ is None  # no library exception type leaks through


def test_messages_say_what_is_wrong(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty"):
        read_image(tmp_path / "empty.png")
    with pytest.raises(ImageReadError, match="does not exist"):
        read_image(tmp_path / "nowhere.png")
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path)
    (tmp_path / "notes.jpg").write_text("shopping list")
    with pytest.raises(ImageReadError, match="not a JPEG, PNG, TIFF, BMP or WebP image"):
        read_image(tmp_path / "notes.jpg")
    good = save_photo(tmp_path / "good.jpg", size=(200, 300)).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(good[: len(good) // 2])
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(tmp_path / "cut.jpg")


def never(pixels, options, hints):
    raise AssertionError("a photo that cannot be read is never predicted")


def test_a_photo_is_failed_for_good_only_for_a_cause_of_its_own(tmp_path, monkeypatch):
    # An archive run never tries again a failure marked lasting: a network share's I/O error, a
    # stale NFS handle or a file still being copied was marked so, and stayed failed after the
    # share came back; a damaged or empty file rightly is.
    import errno

    def job(name: str) -> Job:
        return Job(tmp_path / name, tmp_path / f"out-{name}", JobOptions(overwrite=True))

    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("shopping list")
    cut = save_photo(tmp_path / "good.jpg", size=(200, 300)).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(cut[: len(cut) // 2])
    for name in ("empty.jpg", "notes.jpg", "cut.jpg"):
        result = run_job(job(name), never)
        assert result.status is Status.FAILED and result.lasting, name

    save_photo(tmp_path / "on-share.jpg")
    real_open, real_header = os.open, metadata.open_header

    def share_open(path, flags, *args):
        if str(path).endswith("on-share.jpg"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_open(path, flags, *args)

    def share_header(source, formats=None):
        if not isinstance(source, io.BytesIO):  # the header read off the share (not from memory)
            raise OSError(errno.ESTALE, os.strerror(errno.ESTALE))
        return real_header(source, formats)

    for target, name, fake in ((os, "open", share_open), (metadata, "open_header", share_header)):
        with monkeypatch.context() as patched:
            patched.setattr(target, name, fake)
            result = run_job(job("on-share.jpg"), never)
        assert result.status is Status.FAILED and not result.lasting, name
        assert "cannot be read" in result.reason and "damaged" not in result.reason


def test_running_out_of_memory_while_decoding_is_not_called_damage(tmp_path, monkeypatch):
    # Pillow's MemoryError while decoding a big scan was reported as "damaged or truncated" and
    # marked lasting: an archive run never tried it again, on a machine with more memory either.
    source = save_photo(tmp_path / "scan.tif", mode="L")

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(imageio, "_decode_cv2", lambda *a, **k: None)  # Pillow decodes
    monkeypatch.setattr(Image.Image, "convert", no_memory)
    result = run_job(Job(source, tmp_path / "out.tif", JobOptions(overwrite=True)), never)
    assert result.status is Status.FAILED and not result.lasting
    assert "Not enough memory" in result.reason and "damaged" not in result.reason


def test_pixel_limit_is_checked_before_decoding(tmp_path, monkeypatch):
    path = save_photo(tmp_path / "big.png", size=(100, 200))
    decoded = []
    monkeypatch.setattr(imageio, "_decode_cv2", lambda *a: decoded.append(a))
    # the sentence names the one way to raise the limit (the window has none)
    with pytest.raises(ImageTooLargeError, match="200×100 pixels.*limit.*--max-megapixels"):
        read_image(path, max_pixels=10_000)
    assert decoded == []


def huge_png_header(width: int, height: int) -> bytes:
    import zlib

    def chunk(kind, payload):
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def test_pillow_bomb_check_does_not_preempt_ours(tmp_path):
    # 200 MP: above Pillow's own hard limit (2 x 89 MP), below our default of 250 MP.
    path = tmp_path / "bomb.png"
    path.write_bytes(huge_png_header(20_000, 10_000))
    limit_before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageTooLargeError, match="200 megapixels"):
        read_image(path, max_pixels=100_000_000)
    assert limit_before == Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageReadError) as caught:  # under our default limit: decoded, found broken
        read_image(path)
    assert not isinstance(caught.value, ImageTooLargeError)
    assert limit_before == Image.MAX_IMAGE_PIXELS


# --- writing -------------------------------------------------------------------------------


def test_existing_output_is_not_replaced_without_overwrite(tmp_path):
    target = save_photo(tmp_path / "out.png")
    before = digest(target)
    with pytest.raises(ImageWriteError, match="already exists"):
        write_image(target, np.zeros((4, 4, 3), np.uint8))
    assert digest(target) == before
    write_image(target, np.zeros((4, 4, 3), np.uint8), overwrite=True)
    assert np.asarray(opened(target)).shape == (4, 4, 3)


def test_unwritable_folder_gives_a_clear_error_and_leaves_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    make_unwritable(folder, monkeypatch)
    with pytest.raises(ImageWriteError, match="permission denied") as caught:
        write_image(folder / "out.jpg", gradient())
    assert str(folder) in str(caught.value)
    assert os.listdir(folder) == []


def test_missing_folder_is_reported(tmp_path):
    with pytest.raises(ImageWriteError, match="does not exist"):
        write_image(tmp_path / "nowhere" / "out.jpg", gradient())


def test_failed_write_leaves_no_partial_or_temporary_file(tmp_path, monkeypatch):
    import errno

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ImageWriteError, match="disk space"):
        write_image(tmp_path / "out.jpg", gradient())
    assert os.listdir(tmp_path) == []


def test_leftover_temporary_file_of_a_killed_save_is_cleaned_up(tmp_path):
    stale = tmp_path / ".out.jpg.deadbeef.colorize-tmp"
    stale.write_bytes(b"half a jpeg")
    write_image(tmp_path / "out.jpg", gradient())
    assert sorted(os.listdir(tmp_path)) == ["out.jpg"]


def test_output_gets_ordinary_file_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    out = write_image(tmp_path / "out.png", gradient())
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_non_ascii_file_names(tmp_path):
    path = save_photo(tmp_path / "фото Ålesund 東京.jpg")
    image = read_image(path)
    out = write_image(tmp_path / "фото Ålesund 東京_colorized.jpg", image.pixels, like=image)
    assert read_image(out).pixels.shape == image.pixels.shape


def test_reading_never_opens_the_original_for_writing(tmp_path, monkeypatch):
    path = save_photo(tmp_path / "in.jpg", exif=exif_with(6))
    modes = []
    real_open = io.open

    def spy(file, mode="r", *args, **kwargs):
        if not isinstance(file, int) and os.fspath(file) == os.fspath(path):
            modes.append(mode)
        return real_open(file, mode, *args, **kwargs)

    real_os_open = os.open
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def os_spy(file, flags, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            modes.append("w" if flags & writing else "rb")
        return real_os_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(io, "open", spy)
    monkeypatch.setattr(os, "open", os_spy)
    read_image(path)
    assert modes and all(set(m) <= set("rb") for m in modes)


# --- reduced reads for thumbnails: the same reader, the same orientation ----------------------


@pytest.mark.parametrize("mode", ["L", "RGB"])
@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_a_reduced_read_is_the_full_read_made_smaller(tmp_path, mode, orientation):
    path = save_photo(tmp_path / "scan.jpg", size=(600, 1000), mode=mode, quality=95,
                      exif=exif_with(orientation))
    full = read_image(path).pixels
    small = read_image(path, reduce_to=200).pixels  # 1000 / 4 = 250 >= 200; / 8 would be 125
    assert small.shape[:2] == (full.shape[0] // 4, full.shape[1] // 4)  # upright, as the full read
    shrunk = cv2.resize(full, small.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk.astype(int) - small.astype(int)).mean() < 3


def test_a_thumbnail_is_upright_and_list_sized(tmp_path):
    from colorize_app.core.display import THUMB_SIZE, read_thumbnail

    jpeg = save_photo(tmp_path / "portrait.jpg", size=(600, 1000), exif=exif_with(6))
    png = save_photo(tmp_path / "wide.png", size=(50, 300))
    assert read_thumbnail(jpeg).shape[:2] == (THUMB_SIZE, round(THUMB_SIZE * 0.6))
    assert read_thumbnail(png).shape[:2] == (round(THUMB_SIZE / 6), THUMB_SIZE)


def test_a_truncated_jpeg_gives_no_thumbnail_but_the_reason(tmp_path):
    from colorize_app.core.display import read_thumbnail

    data = save_photo(tmp_path / "whole.jpg", size=(600, 1000)).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="truncated"):
        read_thumbnail(tmp_path / "cut.jpg")


def test_a_quick_thumbnail_matches_the_one_made_from_display_copies():
    from colorize_app.core.display import levels, thumbnail, thumbnail_of

    pixels = np.ascontiguousarray(np.repeat(gradient(1500, 2000)[None], 1, 0)[0])
    quick, careful = thumbnail_of(pixels), thumbnail(levels(pixels))
    assert quick.shape == careful.shape == (96, 128, 3)
    assert np.abs(quick.astype(int) - careful.astype(int)).mean() < 2
