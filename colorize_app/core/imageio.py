"""Read and write photos: formats, EXIF orientation, 8/16 bit, alpha, CMYK, ICC, atomic saves.

Pillow reads the header and metadata (cheap, and it knows every mode); OpenCV decodes and
encodes the pixels because it is roughly twice as fast on large JPEGs. Pillow decodes what OpenCV
gets wrong or cannot do: CMYK, odd modes, and anything OpenCV refuses. Files are read into memory
once and decoded from bytes, and written from bytes, so non-ASCII paths work on every platform.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms

from colorize_app.core import exiv2, metadata, profiles, provenance
from colorize_app.core.atomic import write_bytes_atomic
from colorize_app.core.errors import ImageReadError, ImageTooLargeError, ImageWriteError
from colorize_app.core.vocabulary import DEFAULT_MAX_PIXELS, EXTENSIONS, FORMATS

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_PIXELS", "EXTENSIONS", "FORMATS", "ImageData", "read_image", "write_image"]
SIXTEEN_BIT_FORMATS = ("PNG", "TIFF")
XMP_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP")  # the formats that carry a provenance record
_NO_ALPHA_FORMATS = ("JPEG", "BMP")
_CV_EXT = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tiff", "BMP": ".bmp", "WEBP": ".webp"}
_CV_FLAGS = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION
_CV_REDUCED = {  # (scale, gray): OpenCV's flag for decoding a JPEG at 1/scale size
    (2, True): cv2.IMREAD_REDUCED_GRAYSCALE_2, (4, True): cv2.IMREAD_REDUCED_GRAYSCALE_4,
    (8, True): cv2.IMREAD_REDUCED_GRAYSCALE_8, (2, False): cv2.IMREAD_REDUCED_COLOR_2,
    (4, False): cv2.IMREAD_REDUCED_COLOR_4, (8, False): cv2.IMREAD_REDUCED_COLOR_8,
}  # fmt: skip
# A file may hold far more than its pixels (metadata, thumbnails, Photoshop layers), but not
# without limit: beyond this many bytes per pixel plus a fixed slack it is refused before reading.
_BYTES_PER_PIXEL_LIMIT = 128
_SIZE_SLACK = 256 * 2**20
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
_KINDS = {stat.S_IFIFO: "a named pipe", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device",
          stat.S_IFSOCK: "a socket"}  # fmt: skip


@dataclass
class ImageData:
    """A decoded photo: display-ordered RGB(A) or gray pixels plus what is needed to save alike."""

    pixels: np.ndarray  # HxW, HxWx3 or HxWx4 in RGB order; uint8 or uint16; orientation applied
    format: str  # Pillow format name: "JPEG", "PNG", "TIFF", "BMP", "WEBP"
    exif: bytes | None = None  # raw EXIF ("Exif\0\0" + TIFF) with the orientation tag reset to 1
    icc_profile: bytes | None = None
    source: Path | None = None
    digest: str = ""  # SHA-256 of the file's bytes, when read with ``digest=True`` ("" otherwise)
    dpi: tuple[float, float] | None = None  # the print's resolution, when the file states one
    xmp: bytes | None = None  # the XMP packet as stored (an archive's keywords, captions, rights)
    iptc: bytes | None = None  # the IPTC datasets (JPEG, TIFF) as an IIM stream


def read_image(path, *, max_pixels: int = DEFAULT_MAX_PIXELS, reduce_to: int | None = None,
               digest: bool = False) -> ImageData:  # fmt: skip
    """Read a photo for colorizing, upright and in RGB order.

    Raises ImageTooLargeError (checked from the header, before any pixel is decoded) when the
    image has more than ``max_pixels`` pixels, and ImageReadError for a missing, empty, damaged,
    truncated or unsupported file, for anything but a regular file (a named pipe would wait
    forever, a device never ends), and for a file far bigger than its pixels can explain; both
    are decided before the file is read whole. Its ``lasting`` says whether the cause is the
    file's own (damaged, not an image) or may pass (a network share's I/O error, a file still
    being copied). MemoryError is raised as such: a lack of memory is not damage. The file is
    only ever opened for reading.

    ``reduce_to``: the photo is wanted only this big (long side, for a thumbnail): a JPEG is
    then decoded at 1/2, 1/4 or 1/8 scale, as long as that keeps at least this long side. Other
    formats, and the checks and the orientation, are as for a full read. ``digest``: also
    compute the SHA-256 of the file's bytes (the provenance of a result names its original).
    """
    path = Path(path)
    data, im = _read_checked(path, max_pixels)
    sha256 = provenance.bytes_digest(data) if digest else ""
    width, height = im.size
    fmt = "JPEG" if im.format == "MPO" else im.format
    if fmt == "JPEG" and not _jpeg_is_complete(data):
        raise ImageReadError(f"{path} is truncated: the JPEG data ends before the image does.",
                             lasting=True)  # fmt: skip
    icc = im.info.get("icc_profile") or None
    key = _colour_key(im, data)
    orientation = metadata.orientation_of(im)
    # A TIFF is turned upright while it is decoded: by OpenCV at every bit depth (4.8 and 5.1
    # measured, IGNORE_ORIENTATION or not), by Pillow since 13 (which then drops the tag), not by
    # older Pillow. So it is turned here only when Pillow decoded it and its tag is still there.
    turned_tiff = fmt == "TIFF" and orientation != 1
    by_opencv = False
    if im.mode == "CMYK":
        pixels, icc = _cmyk_to_rgb(path, im, icc), None  # the output is sRGB now
    else:
        scale = _jpeg_scale(width, height, reduce_to) if fmt == "JPEG" else 1
        size = _upright_tiff_size(im, orientation) if turned_tiff else im.size
        pixels = _decode_cv2(data, im, scale, size)
        by_opencv = pixels is not None
        if pixels is None:
            pixels = _decode_pillow(path, im)
    del data
    if turned_tiff:
        orientation = 1 if by_opencv else metadata.orientation_of(im)
    if key is not None and pixels.ndim == 2:
        pixels = _add_key_alpha(pixels, key)
    pixels, icc = profiles.to_srgb(pixels, icc, path)  # a gray profile: sRGB gray now
    pixels = metadata.apply_orientation(pixels, orientation)
    exif = metadata.exif_for_output(im, path)
    frames = getattr(im, "n_frames", 1) if im.format != "MPO" else 1
    if frames > 1:
        logger.warning("%s holds %d images (frames or pages); only the first is colorized.",
                       path, frames)  # fmt: skip
    dpi, xmp = metadata.dpi_of(im), im.info.get("xmp")
    xmp = xmp if isinstance(xmp, bytes) else None
    return ImageData(np.ascontiguousarray(pixels), fmt, exif, icc, path, sha256, dpi, xmp,
                     metadata.iptc_of(im))  # fmt: skip


def _read_checked(path: Path, max_pixels: int) -> tuple[bytes, Image.Image]:
    """The file's bytes and its opened header, after the checks that need only the first bytes."""
    try:
        fd = os.open(path, _OPEN_FLAGS)  # non-blocking: opening a named pipe must not wait
    except FileNotFoundError:
        raise ImageReadError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path} is a folder, not an image.", lasting=True) from None
    except PermissionError:
        if path.is_dir():  # Windows reports opening a folder as a permission error
            raise ImageReadError(f"{path} is a folder, not an image.", lasting=True) from None
        raise ImageReadError(f"{path} cannot be read: permission denied.") from None
    except OSError as e:
        raise ImageReadError(f"{path} cannot be read: {e.strerror or e}.") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ImageReadError(f"{path} is a folder, not an image.", lasting=True)
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a file")
        raise ImageReadError(f"{path} is {kind}, not a regular file; only regular files are read.",
                             lasting=True)  # fmt: skip
    with os.fdopen(fd, "rb") as f:
        if info.st_size == 0:
            raise ImageReadError(f"{path} is empty (0 bytes).", lasting=True)
        try:
            im = _open_header(path, f)  # Pillow reads just the header from the file
            width, height = im.size
        finally:
            f.seek(0)
        if width * height > max_pixels:
            raise ImageTooLargeError(
                f"{path} is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels), more "
                f"than the limit of {max_pixels / 1e6:.0f} megapixels. Shrink it first, or "
                "colorize it with the command line's --max-megapixels, which raises the limit."
            )
        limit = width * height * _BYTES_PER_PIXEL_LIMIT + _SIZE_SLACK
        if info.st_size > limit:
            raise _too_large(path, info.st_size, width, height)
        try:
            data = f.read(info.st_size + 1)  # bounded, should the file grow while it is read
        except OSError as e:
            raise ImageReadError(f"{path} cannot be read: {e.strerror or e}.") from None
    if len(data) > info.st_size:
        raise ImageReadError(f"{path} grew while it was read; try again once it is complete.")
    return data, _open_header(path, io.BytesIO(data))


def _too_large(path: Path, size: int, width: int, height: int) -> ImageReadError:
    return ImageReadError(
        f"{path} is {size / 1e6:.0f} MB, too large for a {width}×{height} image: it is damaged "
        "or holds something else besides the photo.",
        lasting=True,
    )


def _open_header(path: Path, source) -> Image.Image:
    # Pillow's own bomb check would fire first (at 2x its 89 MP default) with its own wording;
    # ours runs right after this (read_image's max_pixels).
    try:
        return metadata.open_header(source, FORMATS)  # MPO comes via JPEG
    except Image.UnidentifiedImageError:
        raise ImageReadError(
            f"{path} is not a JPEG, PNG, TIFF, BMP or WebP image, or it is damaged.", lasting=True
        ) from None
    except MemoryError:
        raise  # not the file's fault: run_job says there is not enough memory
    except OSError as e:
        if e.errno is not None:  # the disk or the share, not the file (Pillow's own have none)
            raise ImageReadError(f"{path} cannot be read: {e.strerror or e}.") from None
        raise _damaged(path, e) from None
    except Exception as e:
        raise _damaged(path, e) from None


def _damaged(path: Path, e: Exception) -> ImageReadError:
    return ImageReadError(
        f"{path} is damaged ({str(e).rstrip('.') or type(e).__name__}).", lasting=True
    )


def _jpeg_is_complete(data: bytes) -> bool:
    """True when an end-of-image marker follows the first scan (libjpeg would pad a cut file).

    Stray bytes between segments are skipped up to the next 0xFF, as libjpeg does ("extraneous
    bytes before marker"): such files decode in full.
    """
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            at = data.find(b"\xff", at)
            if at == -1:
                return False
            continue
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xDA:  # start of scan: entropy data stuffs 0xFF, so FFD9 is a real EOI
            return data.find(b"\xff\xd9", at) != -1
        if marker == 0xD9:  # end of image before any scan
            return False
        if marker in _STANDALONE_MARKERS:
            at += 2
            continue
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return False


_STANDALONE_MARKERS = frozenset([0x00, 0x01, 0xD8, *range(0xD0, 0xD8)])  # no length field


def _colour_key(im: Image.Image, data: bytes) -> int | None:
    """The transparent gray level of a gray PNG with a tRNS chunk, scaled as decoded; else None.
    (An RGB key is OpenCV's and Pillow's business: both decode it as alpha.)"""
    key = im.info.get("transparency")
    if im.format != "PNG" or not isinstance(key, int) or not (
        im.mode in ("1", "L", "I") or im.mode.startswith("I;16")
    ):  # fmt: skip
        return None
    bits = data[24] if len(data) > 24 else 8  # IHDR bit depth; 1, 2 and 4 are decoded as 8
    return key * (255 // (2**bits - 1)) if bits < 8 else key


def _add_key_alpha(gray: np.ndarray, key: int) -> np.ndarray:
    top = np.iinfo(gray.dtype).max
    alpha = np.where(gray == key, 0, top).astype(gray.dtype)
    return np.dstack([gray, gray, gray, alpha])


def _expected_channels(im: Image.Image) -> int | None:
    mode = im.mode
    if mode in ("1", "L", "I") or mode.startswith("I;16"):
        return 1
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        return 4
    if mode == "P":
        return 4 if "transparency" in im.info else 3
    if mode == "RGB" and "transparency" in im.info:  # a transparent colour (PNG tRNS)
        return 4
    if mode in ("RGB", "RGBX", "YCbCr"):
        return 3
    return None  # leave anything unusual to Pillow


def _jpeg_scale(width: int, height: int, reduce_to: int | None) -> int:
    """The largest of 8, 4, 2 that keeps the long side at least ``reduce_to``; else 1."""
    if reduce_to:
        for scale in (8, 4, 2):
            if max(width, height) // scale >= reduce_to:
                return scale
    return 1


def _decode_cv2(data: bytes, im: Image.Image, scale: int = 1,
                size: tuple[int, int] | None = None) -> np.ndarray | None:  # fmt: skip
    """Decode with OpenCV (JPEGs at 1/``scale`` size); None when it fails or disagrees with the
    header (Pillow then decodes). ``size``: the (width, height) it decodes to, when not the
    header's (a TIFF that OpenCV turns upright)."""
    channels = _expected_channels(im)
    if channels is None:
        return None
    flags = _CV_FLAGS
    if scale > 1:  # libjpeg scales while decoding: an 8x smaller thumbnail costs a fraction
        flags = _CV_REDUCED[(scale, channels == 1)] | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:
        return None
    width, height = size or im.size
    expected = (-(-height // scale), -(-width // scale))  # libjpeg rounds up
    if pixels is None or pixels.shape[:2] != expected:
        return None
    if pixels.dtype not in (np.uint8, np.uint16):
        return None
    got = 1 if pixels.ndim == 2 else pixels.shape[2]
    whole = True
    if got == 4 and channels == 3:  # e.g. 32-bit BMPs whose fourth byte is padding
        pixels, got, whole = pixels[..., :3], 3, False
    if got != channels:
        return None
    # In place where the buffer is ours alone: a 50 MP photo would otherwise need a second copy.
    # (Not on a view: numpy calls a 1x1 slice contiguous, OpenCV rightly does not.)
    dst = pixels if whole and pixels.flags.c_contiguous else None
    if got == 3:
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, dst=dst)
    if got == 4:
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA, dst=dst)
    return pixels


def _upright_tiff_size(im: Image.Image, orientation: int) -> tuple[int, int]:
    """A TIFF's (width, height) once turned upright, from its own tags: Pillow 13 reports the
    turned size, older Pillow the stored one."""
    width, height = im.tag_v2.get(256, im.width), im.tag_v2.get(257, im.height)
    return (height, width) if orientation >= 5 else (width, height)


def _decode_pillow(path: Path, im: Image.Image) -> np.ndarray:
    mode = im.mode
    try:
        if mode == "F":
            raise ImageReadError(f"{path} holds floating-point pixels, which are not supported.",
                                 lasting=True)  # fmt: skip
        if mode == "I" or mode.startswith("I;16"):
            return np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
        if mode in ("1", "L"):
            return np.asarray(im.convert("L"))
        if _expected_channels(im) == 4:
            return np.asarray(im.convert("RGBA"))
        return np.asarray(im.convert("RGB"))
    except (ImageReadError, MemoryError):  # no memory: not the file's fault (run_job says so)
        raise
    except Exception as e:
        raise _undecodable(path, e) from None


def _undecodable(path: Path, e: Exception) -> ImageReadError:
    return ImageReadError(
        f"{path} is damaged or truncated and cannot be decoded ({e}).", lasting=True
    )


def _cmyk_to_rgb(path: Path, im: Image.Image, icc: bytes | None) -> np.ndarray:
    # Pillow undoes Adobe's inverted CMYK while decoding; with an embedded profile, LittleCMS gives
    # the colours the photo was made with, otherwise Pillow's plain conversion is the usual answer.
    try:
        im.load()
    except MemoryError:
        raise
    except Exception as e:
        raise _undecodable(path, e) from None
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            rgb = ImageCms.profileToProfile(
                im, src, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            return np.asarray(rgb)
        except Exception:
            logger.warning("Ignoring unusable CMYK profile in %s", path, exc_info=True)
    return np.asarray(im.convert("RGB"))


def write_image(path, pixels: np.ndarray, *, like: ImageData | None = None,
                format: str | None = None, bit_depth: int | None = None, quality: int = 95,
                overwrite: bool = False, record: provenance.Provenance | None = None,
                on_problem: Callable[[str], None] | None = None) -> Path:  # fmt: skip
    """Save pixels (RGB order) atomically and return the path written.

    The format is ``format``, else ``like.format``, else the one the extension names. The bit
    depth is ``bit_depth``, else that of ``pixels``, reduced to 8 where the format has no 16-bit
    form (only PNG and TIFF do). EXIF, the ICC profile and the resolution (dpi: JPEG, PNG, TIFF)
    of ``like`` are carried over (a TIFF's EXIF, and a 16-bit TIFF's profile, by Exiv2: libtiff
    and OpenCV cannot write them). JPEG and BMP drop alpha. Raises ImageWriteError when the
    target exists and ``overwrite`` is false, or it cannot be written. ``record``: the
    provenance written into it as XMP (JPEG, PNG, TIFF, WebP). Metadata that cannot be written
    never costs the photo: it is saved without that part, and ``on_problem`` (else the log)
    hears a sentence saying which and why.
    """
    path = Path(path)
    fmt = _output_format(path, like, format)
    pixels = _to_bit_depth(_check_pixels(pixels), bit_depth, fmt)
    if fmt in _NO_ALPHA_FORMATS and pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[..., :3]
    if not overwrite and path.exists():
        raise ImageWriteError(f"{path} already exists; choose overwrite to replace it.")
    exif = like.exif if like else None
    icc = like.icc_profile if like else None
    wanted = b"GRAY" if pixels.ndim == 2 else b"RGB "
    if icc and metadata.icc_colour_space(icc) != wanted:
        logger.info("Not embedding the %s profile of %s in %s", icc[16:20], like.source, path)
        icc = None
    tell = on_problem or _log_problem
    data = _encode(path, pixels, fmt, exif, icc, like.dpi if like else None, quality, tell)
    # libtiff cannot write a TIFF's Exif sub-directory (Pillow then refused all its metadata),
    # and OpenCV's 16-bit TIFF holds neither EXIF nor a profile: Exiv2 writes them
    tiff_exif = exif if fmt == "TIFF" else None
    tiff_icc = icc if fmt == "TIFF" and pixels.dtype == np.uint16 else None
    iptc, packet = _catalogue(path, like, fmt, tell)
    parts = exiv2.Parts(exif=tiff_exif, iptc=iptc, icc=tiff_icc, packet=packet)
    data = _with_exiv2(path, data, fmt, parts, record, tell)
    return write_bytes_atomic(path, data, overwrite=overwrite)


_PARTS = {"exif": "EXIF data", "icc_profile": "colour profile", "dpi": "resolution",
          "iptc": "IPTC keywords and captions", "packet": "XMP keywords, captions and rights",
          "xmp": "provenance record"}  # fmt: skip
_IPTC_FORMATS = ("JPEG", "PNG", "TIFF")  # WebP has no place for IPTC (its XMP says the same)


def _catalogue(path: Path, like: ImageData | None, fmt: str,
               tell: Callable[[str], None]) -> tuple[bytes | None, str | None]:  # fmt: skip
    """The original's IPTC and XMP packet to carry into the result, where it can hold them."""
    if like is None or fmt not in XMP_FORMATS:
        return None, None
    packet, why_not = metadata.xmp_to_carry(like.xmp)
    if why_not:
        tell(f"{path.name} is saved without its original's {_PARTS['packet']} ({why_not}).")
    return (like.iptc if fmt in _IPTC_FORMATS else None), packet


def _with_exiv2(path: Path, data: bytes, fmt: str, parts: exiv2.Parts,
                record: provenance.Provenance | None, tell: Callable[[str], None]) -> bytes:  # fmt: skip
    """``data`` with what Exiv2 writes (``parts`` and the provenance record), in one pass."""
    if record is not None and fmt not in XMP_FORMATS:
        tell(f"{path.name} is saved without its provenance record ({fmt} files cannot hold one).")
        record = None
    # registered before the original's packet is parsed: a record in it (the original was itself
    # a result) is then found under its prefix, and not carried
    parts = replace(parts, namespace=(provenance.NAMESPACE, provenance.PREFIX))
    if record is not None:
        parts = replace(parts, xmp=provenance.xmp_fields(record), max_xmp=provenance.MAX_XMP_BYTES)
    wanted = {name: getattr(parts, name) for name in ("exif", "iptc", "icc", "packet", "xmp")}
    if not any(wanted.values()):
        return data
    try:
        data, failed = exiv2.edit(data, parts)
    except Exception as e:  # metadata must not cost the photo: it is saved, and we say so
        names = {"icc": "icc_profile"}
        failed = {names.get(name, name): e for name, value in wanted.items() if value}
    for part, e in failed.items():
        logger.debug("Exiv2 could not write %s into %s", part, path, exc_info=e)
        tell(f"{path.name} is saved without its {_PARTS[part]} ({type(e).__name__}: {e}).")
    return data


def _log_problem(problem: str) -> None:
    logger.warning("%s", problem)


def _output_format(path: Path, like: ImageData | None, fmt: str | None) -> str:
    fmt = (
        fmt or (like.format if like else None) or EXTENSIONS.get(path.suffix.lower(), "")
    ).upper()
    fmt = {"JPG": "JPEG", "TIF": "TIFF", "MPO": "JPEG"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ImageWriteError(f"Cannot write {path}: choose a JPEG, PNG, TIFF, BMP or WebP name.")
    return fmt


def _check_pixels(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"pixels must be uint8 or uint16, not {pixels.dtype}")
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (3, 4))):
        raise ValueError(f"pixels must be HxW, HxWx3 or HxWx4, not {pixels.shape}")
    return pixels


def _to_bit_depth(pixels: np.ndarray, bit_depth: int | None, fmt: str) -> np.ndarray:
    bits = bit_depth or (16 if pixels.dtype == np.uint16 else 8)
    if bits not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, not {bit_depth}")
    if bits == 16 and fmt not in SIXTEEN_BIT_FORMATS:
        bits = 8
    if bits == 8 and pixels.dtype == np.uint16:
        return cv2.convertScaleAbs(pixels, alpha=1 / 257)  # rounds and saturates
    if bits == 16 and pixels.dtype == np.uint8:
        return pixels.astype(np.uint16) * 257
    return pixels


def _encode(path: Path, pixels: np.ndarray, fmt: str, exif, icc, dpi, quality: int,
            tell: Callable[[str], None]) -> bytes:  # fmt: skip
    sixteen = pixels.dtype == np.uint16
    if fmt == "WEBP" or (fmt == "TIFF" and not sixteen):
        if fmt == "TIFF" and exif:  # its sub-directories go in through Exiv2 (write_image)
            exif = metadata.without_sub_directories(exif)
        return _encode_pillow(path, pixels, fmt, exif, icc, dpi, quality, tell)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if fmt == "JPEG" else []
    if fmt == "TIFF" and dpi:
        x, y = (max(1, round(v)) for v in dpi)
        params += [cv2.IMWRITE_TIFF_RESUNIT, 2, cv2.IMWRITE_TIFF_XDPI, x, cv2.IMWRITE_TIFF_YDPI, y]
    if pixels.ndim == 3:
        code = cv2.COLOR_RGB2BGR if pixels.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        pixels = cv2.cvtColor(pixels, code)
    try:
        ok, buffer = cv2.imencode(_CV_EXT[fmt], pixels, params)
    except cv2.error as e:
        raise ImageWriteError(f"Cannot encode {path} as {fmt}: {e.err}") from None
    if not ok:
        raise ImageWriteError(f"Cannot encode {path} as {fmt}.")
    data = buffer.tobytes()
    if fmt == "JPEG":
        return metadata.embed_in_jpeg(data, exif, icc, dpi)
    if fmt == "PNG":
        return metadata.embed_in_png(data, exif, icc, dpi)
    return data


def _encode_pillow(path: Path, pixels: np.ndarray, fmt: str, exif, icc, dpi, quality: int,
                   tell: Callable[[str], None]) -> bytes:  # fmt: skip
    """Pillow's encoding; metadata it rejects must not cost the photo, nor the rest of the
    metadata: the EXIF is left out first, then the profile, then the resolution (a WebP has
    none), and each loss is told once the photo is encoded. Running out of memory is no
    fault of the metadata: MemoryError is raised at once (a 50 MP TIFF was encoded four times,
    and a result never saved was said to be saved without its EXIF, profile and resolution)."""
    image = Image.fromarray(pixels)
    options = {"quality": int(quality)} if fmt == "WEBP" else {"compression": "tiff_lzw"}
    dpi = dpi if fmt == "TIFF" else None
    extras = {k: v for k, v in (("exif", exif), ("icc_profile", icc), ("dpi", dpi)) if v}
    if fmt == "WEBP" and "exif" in extras:  # the WebP container stores bare TIFF-format EXIF
        extras["exif"] = extras["exif"].removeprefix(metadata.EXIF_PREFIX)
    losses = []
    while True:
        buffer = io.BytesIO()
        try:
            image.save(buffer, fmt, **options, **extras)
        except MemoryError:
            raise
        except Exception as e:
            if not extras:  # not the metadata's fault after all: nothing was saved without it
                raise ImageWriteError(f"Cannot encode {path} as {fmt}: {e}") from None
            part = next(iter(extras))
            del extras[part]
            losses.append(f"{path.name} is saved without its {_PARTS[part]} ({e}).")
            continue
        for loss in losses:
            tell(loss)
        return buffer.getvalue()
