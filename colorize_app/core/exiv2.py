"""Metadata that Exiv2 (pyexiv2) writes into a result's encoded bytes, in one pass.

Exiv2 writes what the encoders cannot: the provenance XMP in every format, an archive's
catalogue data (the original's XMP packet and IPTC: keywords, captions, rights), a TIFF's EXIF
with its Exif sub-directory (date taken, exposure), which Pillow's libtiff writer refuses whole
(and with it the profile and the resolution), and a 16-bit TIFF's EXIF and colour profile, which
OpenCV's TIFF writer has no way to hold. Each part is written on its own: one that Exiv2
refuses is left out and named, the others and the photo are kept.
"""

from __future__ import annotations

import io
import threading
import uuid
from dataclasses import dataclass

from colorize_app.core import metadata

_lock = threading.Lock()  # Exiv2's namespace registry is global; one writer at a time
_registered: set[tuple[str, str]] = set()
_ORIENTATIONS = ("Xmp.tiff.Orientation", "Xmp.exif.Orientation")  # the pixels are upright now
# What the original's packet says that would be false of its result, by Exiv2 key ("." ends a
# whole namespace). Lightroom, Camera Raw and Bridge apply the develop settings (crs:) they find,
# so an original's Convert to Grayscale showed its colour result gray; xmpMM: is the document's
# identity and history (the result gets its own, derived from the original's: _identify); the
# rest describes the original's file (its pixel layout, profile, thumbnail, last change), not
# the result's. The catalogue data (dc:, Iptc4xmpCore:, photoshop:Source, lr:, xmpRights:, the
# dates and places of the photo) is true of both and is kept.
_FALSE_OF_A_RESULT = (
    "Xmp.crs.", "Xmp.xmpMM.", "Xmp.xmpNote.HasExtendedXMP",
    "Xmp.photoshop.ICCProfile", "Xmp.photoshop.ColorMode", "Xmp.photoshop.History",
    "Xmp.xmp.Thumbnails", "Xmp.xmp.ModifyDate", "Xmp.xmp.MetadataDate",
    "Xmp.tiff.ImageWidth", "Xmp.tiff.ImageLength", "Xmp.tiff.BitsPerSample",
    "Xmp.tiff.Compression", "Xmp.tiff.PhotometricInterpretation", "Xmp.tiff.SamplesPerPixel",
    "Xmp.tiff.PlanarConfiguration", "Xmp.tiff.YCbCrSubSampling", "Xmp.tiff.YCbCrPositioning",
    "Xmp.tiff.NativeDigest", "Xmp.exif.ColorSpace", "Xmp.exif.PixelXDimension",
    "Xmp.exif.PixelYDimension", "Xmp.exif.ComponentsConfiguration",
    "Xmp.exif.CompressedBitsPerPixel", "Xmp.exif.NativeDigest",
)  # fmt: skip
_RECORD = ("Xmp.iptcExt.DigitalSourceType", "Xmp.xmp.CreatorTool")  # a record's, beside its namespace
_IDS = {"DocumentID": "documentID", "InstanceID": "instanceID",
        "OriginalDocumentID": "originalDocumentID"}  # xmpMM: -> stRef: of DerivedFrom  # fmt: skip


@dataclass(frozen=True)
class Parts:
    """What to write; each part that is None is left as the encoder wrote it."""

    exif: bytes | None = None  # "Exif\0\0" + TIFF, copied entry by entry with its types
    iptc: bytes | None = None  # an IIM stream (metadata.iptc_of)
    icc: bytes | None = None
    packet: str | None = None  # the original's XMP packet, carried less what is false of the result
    xmp: dict[str, str] | None = None  # properties set on top of it (Exiv2 keys)
    # (uri, prefix) of the record that ``xmp`` writes: an original's record in ``packet`` (it was
    # itself a result) is not carried
    namespace: tuple[str, str] | None = None
    # The largest packet, as written into the file, that the record is read back from; beyond
    # it the record is written alone (None: no limit)
    max_xmp: int | None = None


def edit(data: bytes, parts: Parts) -> tuple[bytes, dict[str, Exception]]:
    """``data`` (a JPEG, PNG, TIFF or WebP file) with ``parts`` written, and what could not be
    written: {"exif", "iptc", "icc_profile", "packet" or "xmp": why}. Raises whatever Exiv2
    raises for data it cannot open at all."""
    import pyexiv2  # a compiled library: loaded when the first result is written

    failed: dict[str, Exception] = {}
    with _lock:
        pyexiv2.set_log_level(4)  # mute: problems come back as exceptions
        if parts.namespace and parts.namespace not in _registered:
            pyexiv2.registerNs(*parts.namespace)
            _registered.add(parts.namespace)
        image = pyexiv2.ImageData(data)
        try:
            for name, step in _steps(pyexiv2, parts):
                try:
                    step(image)
                except Exception as e:
                    failed[name] = e
            if parts.packet and parts.xmp and not ("packet" in failed or "xmp" in failed):
                _measure(image, parts, failed)
            if parts.packet and parts.xmp and ("packet" in failed or "xmp" in failed):
                _record_alone(image, parts, failed)
            return image.get_bytes(), failed
        finally:
            image.close()


def _steps(pyexiv2, parts: Parts):
    for name in ("exif", "iptc"):
        if getattr(parts, name):
            yield name, lambda image, name=name: _copy(pyexiv2, parts, image, name)
    if parts.icc:
        yield "icc_profile", lambda image: image.modify_icc(parts.icc)
    if parts.packet:
        yield "packet", lambda image: _carry_packet(image, parts)
    if parts.xmp:
        yield "xmp", lambda image: image.modify_xmp(parts.xmp)


def _copy(pyexiv2, parts: Parts, image, name: str) -> None:
    # Exiv2 parses EXIF and IPTC only inside an image: a 1x1 JPEG carries them, and Exiv2 copies
    # its parsed entries (types and all, not strings) into the result, laid out for its format.
    carrier = pyexiv2.ImageData(metadata.carrier(parts.exif, parts.iptc))
    try:
        carrier.copy_to_another_image(image, exif=name == "exif", iptc=name == "iptc", xmp=False,
                                      comment=False, icc=False, thumbnail=False)  # fmt: skip
    finally:
        carrier.close()


def _measure(image, parts: Parts, failed: dict[str, Exception]) -> None:
    """Fails the packet when the result's XMP, as written, is too big for its record to be read
    back. Exiv2 lays a packet out afresh, a line and an indent for each item: a packet of
    keywords under the carrying limit came out 27% bigger, past it. (Its read_raw_xmp folds that
    layout away: the written bytes are measured.)"""
    if parts.max_xmp is None:
        return
    with metadata.open_header(io.BytesIO(image.get_bytes())) as written:
        size = len(written.info.get("xmp") or b"")
    if size > parts.max_xmp:
        failed["packet"] = ValueError(f"{size / 2**20:.1f} MB once written, more than Colorize "
                                      "reads a provenance record from")  # fmt: skip


def _record_alone(image, parts: Parts, failed: dict[str, Exception]) -> None:
    """The record written without the original's packet: the packet was refused, or the two
    together were (a JPEG's XMP segment holds 64 KB). The record says the colour is machine-made;
    it goes first."""
    failed["packet"] = failed.get("packet") or failed.pop("xmp")
    failed.pop("xmp", None)
    image.clear_xmp()
    try:
        image.modify_xmp(parts.xmp)
    except Exception as e:
        failed["xmp"] = e


def _carry_packet(image, parts: Parts) -> None:
    """The original's packet, less what would be false of the result (``_FALSE_OF_A_RESULT``)
    and less the original's own record (an original that was itself a result: its record
    would speak for this one, written without one or with one that lacks some of its
    properties), turned upright, with an identity of its own. Exiv2 parses it first, so a
    property is found whether the packet writes it as an attribute or an element, and by its
    namespace's URI (registered before: whatever prefix the packet gives it)."""
    image.modify_raw_xmp(parts.packet)
    found = image.read_xmp()
    record = _RECORD + ((f"Xmp.{parts.namespace[1]}.",) if parts.namespace else ())
    false = [key for key in found if _is_false(key, _FALSE_OF_A_RESULT + record)]
    if false:
        image.modify_xmp(dict.fromkeys(false))  # None deletes
    upright = {key: "1" for key in _ORIENTATIONS if key in found}
    if upright:
        image.modify_xmp(upright)
    image.modify_xmp(_identify(found))


def _is_false(key: str, names: tuple[str, ...]) -> bool:
    return any(key.startswith(name) if name.endswith(".") else key == name or key.startswith((f"{name}[", f"{name}/"))
               for name in names)  # fmt: skip


def _identify(found: dict) -> dict[str, str]:
    """A new document of its own (Photoshop and Lightroom tell files apart by these IDs: with the
    original's, the result claimed to be the original, unchanged), derived from the original
    as far as its packet names it."""
    fields = {"Xmp.xmpMM.DocumentID": f"xmp.did:{uuid.uuid4()}",
              "Xmp.xmpMM.InstanceID": f"xmp.iid:{uuid.uuid4()}"}  # fmt: skip
    for name, field in _IDS.items():
        value = found.get(f"Xmp.xmpMM.{name}")
        if isinstance(value, str) and value.strip():
            fields[f"Xmp.xmpMM.DerivedFrom/stRef:{field}"] = value
    return fields
