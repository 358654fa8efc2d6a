"""Metadata that Exiv2 (pyexiv2) writes into a result's encoded bytes, in one pass.

Exiv2 writes what the encoders cannot: the provenance XMP in every format, a TIFF's EXIF with
its Exif sub-directory (date taken, exposure), which Pillow's libtiff writer refuses whole (and
with it the profile and the resolution), and a 16-bit TIFF's EXIF and colour profile, which
OpenCV's TIFF writer has no way to hold. Each part is written on its own: one that Exiv2
refuses is left out and named, the others and the photo are kept.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from colorize_app.core import metadata

_lock = threading.Lock()  # Exiv2's namespace registry is global; one writer at a time
_registered: set[tuple[str, str]] = set()


def edit(data: bytes, *, exif: bytes | None = None, icc: bytes | None = None,
         xmp: dict[str, str] | None = None,
         namespace: tuple[str, str] | None = None) -> tuple[bytes, dict[str, Exception]]:  # fmt: skip
    """``data`` (a JPEG, PNG, TIFF or WebP file) with ``exif`` (``Exif\\0\\0`` + TIFF, copied
    entry by entry with its types), the ``icc`` profile and the ``xmp`` properties (Exiv2 keys;
    ``namespace``: (uri, prefix) of their own) written, and what could not be written:
    {"exif", "icc_profile" or "xmp": why}. Raises whatever Exiv2 raises for data it cannot open
    at all."""
    import pyexiv2  # a compiled library: loaded when the first result is written

    failed: dict[str, Exception] = {}
    with _lock:
        pyexiv2.set_log_level(4)  # mute: problems come back as exceptions
        if namespace and namespace not in _registered:
            pyexiv2.registerNs(*namespace)
            _registered.add(namespace)
        image = pyexiv2.ImageData(data)
        try:
            if exif:
                try:
                    _copy_exif(pyexiv2, exif, image)
                except Exception as e:
                    failed["exif"] = e
            if icc:
                try:
                    image.modify_icc(icc)
                except Exception as e:
                    failed["icc_profile"] = e
            if xmp:
                try:
                    image.modify_xmp(xmp)
                except Exception as e:
                    failed["xmp"] = e
            return image.get_bytes(), failed
        finally:
            image.close()


def _copy_exif(pyexiv2, exif: bytes, image) -> None:
    # Exiv2 parses EXIF only inside an image: a 1x1 JPEG carries it, and Exiv2 copies its parsed
    # entries (types and all, not strings) into the result, which lays them out for its format.
    ok, pixel = cv2.imencode(".jpg", np.zeros((1, 1), np.uint8))
    carrier = pyexiv2.ImageData(metadata.embed_in_jpeg(pixel.tobytes(), exif, None))
    try:
        carrier.copy_to_another_image(image, exif=True, iptc=False, xmp=False, comment=False,
                                      icc=False, thumbnail=False)  # fmt: skip
    finally:
        carrier.close()
