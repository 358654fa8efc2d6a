"""EXIF orientation and metadata plumbing for imageio: read, reset, carry over, embed.

Kept apart from imageio.py because it is byte-level container work (TIFF headers inside EXIF,
JPEG APP segments, PNG chunks) that has nothing to do with decoding pixels.
"""

from __future__ import annotations

import logging
import struct
import threading
import zlib

import cv2
import numpy as np
from PIL import Image, IptcImagePlugin

logger = logging.getLogger(__name__)

EXIF_PREFIX = b"Exif\x00\x00"
ORIENTATION_TAG = 0x0112

# IFD0 tags worth carrying from a TIFF source into another file's EXIF. The rest of a TIFF's
# IFD0 describes its own pixel layout (strips, compression, ...) and would be wrong elsewhere.
_TIFF_DESCRIPTIVE_TAGS = (
    0x010E,  # ImageDescription
    0x010F,  # Make
    0x0110,  # Model
    0x0131,  # Software
    0x0132,  # DateTime
    0x013B,  # Artist
    0x8298,  # Copyright
    0x011A,  # XResolution
    0x011B,  # YResolution
    0x0128,  # ResolutionUnit
)
_SUB_IFDS = (0x8769, 0x8825)  # Exif IFD, GPS IFD
# An original's XMP packet is carried into its result up to this size (Photoshop's history can
# make one hundreds of kilobytes); a bigger one is left out, and the result says so.
CARRIED_XMP_BYTES = 1 << 20
_pillow_limit_lock = threading.Lock()


def open_header(source, formats: tuple[str, ...] | None = None) -> Image.Image:
    """Pillow's opened header of ``source`` (a path or a binary file), whatever its pixel count.

    Pillow refuses a header over twice its MAX_IMAGE_PIXELS (179 MP) as a decompression bomb;
    Colorize checks the size itself (read_image's limit), and reads a big result's provenance
    too, so Pillow's check is off while the header is read, and only then (a lock keeps other
    threads' Pillow calls from seeing it off)."""
    with _pillow_limit_lock:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(source, formats=formats)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def orientation_of(im: Image.Image) -> int:
    """Return the EXIF orientation (1..8) of an opened Pillow image; 1 when absent or invalid."""
    if im.format == "PNG" and "exif" not in im.info:
        return 1  # Pillow's getexif() would decode the whole PNG looking for a late eXIf chunk
    try:
        value = int(im.getexif().get(ORIENTATION_TAG, 1))
    except Exception:  # a damaged EXIF block must not make the photo unreadable
        logger.debug("Ignoring unreadable EXIF orientation", exc_info=True)
        return 1
    return value if 1 <= value <= 8 else 1


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn pixels stored in camera order into display order for EXIF orientation 1..8."""
    if orientation == 2:
        return cv2.flip(pixels, 1)
    if orientation == 3:
        return cv2.rotate(pixels, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(pixels, 0)
    if orientation == 5:
        return cv2.transpose(pixels)
    if orientation == 6:
        return cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(pixels), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return pixels


def exif_for_output(im: Image.Image, source=None) -> bytes | None:
    """Return the source's EXIF as ``Exif\\0\\0``-prefixed bytes with orientation reset to 1 and
    without the original's thumbnail.

    Raw EXIF blocks (JPEG, PNG, WebP) are patched in place rather than re-serialised, so maker
    notes and offsets survive byte for byte. A TIFF keeps its EXIF in its own IFD0, so only the
    descriptive tags and the Exif/GPS sub-directories are taken from it. ``source`` names the
    file in the warning when the EXIF cannot be carried over.
    """
    try:
        raw = im.info.get("exif")
        if isinstance(raw, bytes) and raw:
            block = raw if raw.startswith(EXIF_PREFIX) else EXIF_PREFIX + raw
            return drop_thumbnail(reset_orientation(block))
        if im.format == "TIFF":
            return _tiff_exif(im)
    except Exception:  # metadata is a courtesy: never fail a photo over it
        logger.warning("Could not carry over the EXIF data of %s (it is damaged); the result has none.",
                       source or im.filename or "this photo", exc_info=True)  # fmt: skip
    return None


def reset_orientation(block: bytes) -> bytes:
    """Return an EXIF block whose IFD0 orientation, if present, reads 1 (the pixels are upright)."""
    tiff = bytearray(block[len(EXIF_PREFIX) :])
    first = _first_directory(tiff)
    if first is None:
        return block
    endian, ifd, count = first
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(tiff):
            break
        tag, kind = struct.unpack_from(endian + "HH", tiff, entry)
        if tag == ORIENTATION_TAG and kind == 3:  # SHORT, stored inline in the value field
            struct.pack_into(endian + "H", tiff, entry + 8, 1)
            break
    return EXIF_PREFIX + bytes(tiff)


def drop_thumbnail(block: bytes) -> bytes:
    """Return an EXIF block without its second directory, IFD1: the original's thumbnail, which
    file browsers and cameras show in place of the photo (gray, and the old way round)."""
    tiff = bytearray(block[len(EXIF_PREFIX) :])
    first = _first_directory(tiff)
    if first is None:
        return block
    endian, ifd, count = first
    link = ifd + 2 + 12 * count  # where IFD0 says where the next directory starts
    if link + 4 > len(tiff):
        return block
    struct.pack_into(endian + "I", tiff, link, 0)
    return EXIF_PREFIX + bytes(tiff)


def _first_directory(tiff: bytes) -> tuple[str, int, int] | None:
    """The byte order, offset and entry count of a TIFF-structured EXIF block's IFD0; None when
    the block is too damaged to say."""
    endian = {b"II*\x00": "<", b"MM\x00*": ">"}.get(bytes(tiff[:4]))
    if endian is None or len(tiff) < 8:
        return None
    (ifd,) = struct.unpack_from(endian + "I", tiff, 4)
    if ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(endian + "H", tiff, ifd)
    return endian, ifd, count


def _tiff_exif(im: Image.Image) -> bytes | None:
    source = im.getexif()
    exif = Image.Exif()
    for tag in _TIFF_DESCRIPTIVE_TAGS:
        if tag in source:
            exif[tag] = source[tag]
    for tag in _SUB_IFDS:
        if tag in source:
            exif[tag] = source.get_ifd(tag)
    if not len(exif):
        return None
    exif[ORIENTATION_TAG] = 1
    block = exif.tobytes()  # Pillow 8.2 and later put the prefix on themselves
    return block if block.startswith(EXIF_PREFIX) else EXIF_PREFIX + block


def without_sub_directories(block: bytes) -> bytes | None:
    """An EXIF block with only its IFD0 (camera, date, resolution): libtiff cannot write the Exif
    and GPS sub-directories that Pillow hands it, and then refuses every tag. None when nothing
    is left or the block cannot be read."""
    exif = Image.Exif()
    try:
        exif.load(block)
        for tag in _SUB_IFDS:
            exif.pop(tag, None)
        if not len(exif):
            return None
        block = exif.tobytes()
    except Exception:  # a damaged block: Exiv2 may still make sense of it
        logger.debug("EXIF block unreadable by Pillow", exc_info=True)
        return None
    return block if block.startswith(EXIF_PREFIX) else EXIF_PREFIX + block


def xmp_to_carry(packet: bytes | None) -> tuple[str | None, str]:
    """An original's XMP packet as text to carry into its result, or None and why not ("" when
    there is none): too big, a DTD (entity tricks: Exiv2 would expand them), not UTF-8."""
    if not packet:
        return None, ""
    if len(packet) > CARRIED_XMP_BYTES:
        return None, f"{len(packet) / 2**20:.1f} MB, more than Colorize carries"
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        return None, "it declares a DTD, which Colorize does not read"
    try:
        return packet.decode("utf-8").strip("\x00"), ""
    except UnicodeDecodeError:
        return None, "it is not UTF-8 text"


def iptc_of(im: Image.Image) -> bytes | None:
    """The IPTC datasets (keywords, caption, credit) of a JPEG or TIFF, as an IIM stream; None
    when it has none or they cannot be read."""
    try:
        found = IptcImagePlugin.getiptcinfo(im)
    except Exception:  # metadata is a courtesy: never fail a photo over it
        logger.debug("Ignoring unreadable IPTC data", exc_info=True)
        return None
    stream = b""
    for (record, dataset), values in sorted((found or {}).items()):
        for value in values if isinstance(values, list) else [values]:
            if len(value) < 0x8000:  # longer ones need IIM's extended length: none in practice
                stream += struct.pack(">BBBH", 0x1C, record, dataset, len(value)) + value
    return stream or None


def carrier(exif: bytes | None, iptc: bytes | None) -> bytes:
    """A 1x1 JPEG holding ``exif`` (APP1) and ``iptc`` (an IIM stream, in Photoshop's APP13):
    Exiv2 parses metadata only inside an image."""
    ok, pixel = cv2.imencode(".jpg", np.zeros((1, 1), np.uint8))
    data = embed_in_jpeg(pixel.tobytes(), exif, None)
    if not iptc:
        return data
    padded = iptc + b"\x00" * (len(iptc) % 2)  # resource 0x0404, no name, even length
    payload = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + padded
    return data[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def icc_colour_space(icc: bytes) -> bytes:
    """Return the 4-byte colour space signature of an ICC profile (b'RGB ', b'GRAY', b'CMYK')."""
    return icc[16:20] if len(icc) >= 20 else b""


def dpi_of(im: Image.Image) -> tuple[float, float] | None:
    """The physical resolution Pillow read (JFIF density, PNG pHYs, TIFF resolution, EXIF), in
    dots per inch; None when the file states none or only an aspect ratio."""
    try:
        x, y = (float(v) for v in im.info["dpi"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return (x, y) if 0 < x < 1e6 and 0 < y < 1e6 else None


def embed_in_jpeg(data: bytes, exif: bytes | None, icc: bytes | None,
                  dpi: tuple[float, float] | None = None) -> bytes:  # fmt: skip
    """Insert EXIF (APP1) and ICC (APP2) segments into JPEG bytes, after SOI and any JFIF APP0,
    and ``dpi`` as the JFIF density (a print's size is its pixels over its resolution)."""
    if dpi:
        data = _with_jfif_density(data, dpi)
    segments = []
    if exif:
        if len(exif) + 2 <= 0xFFFF:
            segments.append(b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif)
        else:
            logger.warning("EXIF block of %d bytes is too big for JPEG; left out", len(exif))
    if icc:
        # An ICC profile over 64 KiB is split across numbered APP2 segments (ICC.1 Annex B.4).
        size = 0xFFFF - 2 - 14
        chunks = [icc[i : i + size] for i in range(0, len(icc), size)]
        if len(chunks) < 256:
            for n, chunk in enumerate(chunks, 1):
                header = b"ICC_PROFILE\x00" + bytes((n, len(chunks)))
                segments.append(b"\xff\xe2" + struct.pack(">H", len(chunk) + 16) + header + chunk)
    if not segments:
        return data
    at = 2
    if data[2:4] == b"\xff\xe0":  # keep JFIF first, as its spec requires
        at = 4 + struct.unpack_from(">H", data, 4)[0]
    return data[:at] + b"".join(segments) + data[at:]


def _with_jfif_density(data: bytes, dpi: tuple[float, float]) -> bytes:
    x, y = (min(65535, max(1, round(v))) for v in dpi)
    density = struct.pack(">BHH", 1, x, y)  # units 1: dots per inch
    if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":  # libjpeg writes one: set it
        return data[:13] + density + data[18:]
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01" + density + b"\x00\x00"
    return data[:2] + app0 + data[2:]


def embed_in_png(data: bytes, exif: bytes | None, icc: bytes | None,
                 dpi: tuple[float, float] | None = None) -> bytes:  # fmt: skip
    """Insert iCCP, eXIf and pHYs (``dpi``) chunks into PNG bytes right after IHDR (all must
    precede IDAT)."""
    chunks = []
    if dpi:  # pHYs counts pixels per metre
        x, y = (max(1, round(v / 0.0254)) for v in dpi)
        chunks.append(_png_chunk(b"pHYs", struct.pack(">IIB", x, y, 1)))
    if icc:
        chunks.append(_png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc)))
    if exif:
        payload = exif[len(EXIF_PREFIX) :] if exif.startswith(EXIF_PREFIX) else exif
        chunks.append(_png_chunk(b"eXIf", payload))
    if not chunks:
        return data
    at = 8 + 8 + struct.unpack_from(">I", data, 8)[0] + 4  # signature + IHDR chunk
    return data[:at] + b"".join(chunks) + data[at:]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)
