"""What made a result, written into it as XMP and read back from it.

Every result carries the IPTC ``DigitalSourceType`` that says it is machine-made
(compositeWithTrainedAlgorithmicMedia: a real photograph with colour from a trained model),
``xmp:CreatorTool`` (the application and version), and in Colorize's own namespace the model (name
and SHA-256 of its weights file), render size, saturation, the hints (count and a digest) and the
original (file name, SHA-256 of its bytes, its size and modification time: core.freshness tells
from those, cheaply, whether it changed since). pyexiv2 (Exiv2) writes it into JPEG, PNG, TIFF and
WebP bytes, 16-bit ones too; ExifTool and every XMP reader see it.

Reading is deliberately narrow: Pillow hands over the result's XMP packet while reading only the
header, and it is parsed only when it is small and declares no DTD (no entity tricks). A record
that is damaged, foreign or from a newer Colorize reads as unknown, never as an exception.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from functools import lru_cache
from pathlib import Path

from colorize_app import __version__
from colorize_app.core import exiv2, metadata
from colorize_app.core.files import open_regular
from colorize_app.core.hints import Hint
from colorize_app.core.vocabulary import VIDEO_EXTENSIONS

logger = logging.getLogger(__name__)

NAMESPACE = "https://colorize.github.io/ns/provenance/1.0/"
PREFIX = "colorize"
RECORD_VERSION = 1
DIGITAL_SOURCE_TYPE = ("http://cv.iptc.org/newscodes/digitalsourcetype/"
                       "compositeWithTrainedAlgorithmicMedia")  # fmt: skip
IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
XMP_BASIC = "http://ns.adobe.com/xap/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
FILM_TAG = "colorize_provenance"  # the container tag that holds a film's record
# Ours is under 3 KB, on top of the original's packet (metadata.CARRIED_XMP_BYTES at most);
# a bigger packet is not ours and is not parsed.
MAX_XMP_BYTES = metadata.CARRIED_XMP_BYTES + 64 * 1024
_PROPERTIES = ("RecordVersion", "Model", "ModelSHA256", "RenderSize", "Saturation", "HintsCount",
               "HintsSHA256", "Original", "OriginalSHA256", "OriginalBytes",
               "OriginalModified")  # fmt: skip


@dataclass(frozen=True)
class Recipe:
    """What decides a result's colours: a result is current when its recipe equals today's."""

    model_sha256: str = ""  # "" when unknown: the model is then not compared
    render_size: int = 0
    saturation: float = 0.0
    hints_sha256: str = ""

    def differences(self, other: Recipe) -> list[str]:
        """Which of "hints", "settings", "model" differ between two recipes."""
        found = []
        if self.hints_sha256 != other.hints_sha256:
            found.append("hints")
        if (self.render_size, round(self.saturation, 2)) != (other.render_size, round(other.saturation, 2)):
            found.append("settings")
        if self.model_sha256 and other.model_sha256 and self.model_sha256 != other.model_sha256:
            found.append("model")
        return found


@dataclass(frozen=True)
class OriginalStamp:
    """An original's size in bytes and its modification time, as a record writes it (ISO 8601
    UTC to the nanosecond; "" when the time cannot be written)."""

    size: int
    modified: str = ""


def stamp_of(path: str | os.PathLike) -> OriginalStamp | None:
    """The size and modification time of the regular file at ``path`` (a stat, nothing read);
    None when there is none."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return OriginalStamp(info.st_size, _modified_text(info.st_mtime_ns))


def _modified_text(mtime_ns: int) -> str:
    seconds, fraction = divmod(mtime_ns, 1_000_000_000)
    try:
        moment = datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):  # a time no calendar of this platform holds
        return ""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z"


@dataclass(frozen=True)
class Provenance:
    """Everything written into a result: its recipe, the model's name, the hints' count, the original."""

    recipe: Recipe
    model_name: str = ""
    hints_count: int = 0
    original_name: str = ""
    original_sha256: str = ""
    creator_tool: str = f"Colorize {__version__}"
    # The original's size and modification time, taken before its bytes were read (stamp_of);
    # None: not recorded (an older Colorize), and the original is then not compared (freshness)
    original_stamp: OriginalStamp | None = None


class RecordState(str, Enum):
    """What a result's file says about how it was made."""

    FOUND = "found"
    NONE = "none"  # made before Colorize recorded provenance, or by something else
    UNKNOWN = "unknown"  # damaged, too big, or from a newer Colorize


def hints_digest(hints) -> str:
    """SHA-256 of the hints as their file stores them (6 decimals, lower-case colours, a film's
    frame numbers)."""
    canonical = [[round(h.x, 6), round(h.y, 6), h.color.lower()]
                 + ([h.frame] if h.frame is not None else []) for h in hints]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def recipe_for(render_size: int, saturation: float, hints: tuple[Hint, ...] | list[Hint],
               model_sha256: str = "") -> Recipe:  # fmt: skip
    """The recipe of colorizing with these settings, hints and model."""
    return Recipe(model_sha256, int(render_size), round(float(saturation), 3), hints_digest(hints))


@dataclass(frozen=True)
class ModelIdentity:
    name: str = ""
    sha256: str = ""


def model_identity(path: str | os.PathLike | None) -> ModelIdentity:
    """The name (from its metadata, else the file name) and SHA-256 of a weights file, without
    loading it; empty when it cannot be read (loading it will then say why). Cached per file
    version, so asking again costs a stat."""
    if path is None:
        return ModelIdentity()
    try:
        info = os.stat(path)
    except OSError:
        return ModelIdentity()
    if not stat.S_ISREG(info.st_mode) or not info.st_size:  # a pipe or /proc file would never end
        return ModelIdentity()
    return _identity(str(Path(path).resolve()), info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=8)
def _identity(path: str, size: int, mtime_ns: int) -> ModelIdentity:
    digest = hashlib.sha256()
    name = Path(path).stem
    try:
        with os.fdopen(open_regular(path), "rb") as fh:  # never waits; read only ``size`` bytes
            head = fh.read(8)
            length = int.from_bytes(head, "little") if len(head) == 8 else 0
            header = fh.read(length) if 0 < length <= min(size, 1_000_000) else b""
            digest.update(head + header)
            left = size - len(head) - len(header)
            while left > 0 and (block := fh.read(min(left, 1 << 20))):
                digest.update(block)
                left -= len(block)
    except OSError:
        return ModelIdentity()
    try:
        meta = json.loads(json.loads(header)["__metadata__"]["colorize"])
        name = str(meta.get("training", {}).get("name") or name)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass  # not Colorize metadata: the file name will do
    return ModelIdentity(name, digest.hexdigest())


def bytes_digest(data: bytes) -> str:
    """SHA-256 of a file's bytes, as recorded for the original."""
    return hashlib.sha256(data).hexdigest()


def xmp_fields(provenance: Provenance) -> dict[str, str]:
    """The XMP properties written, keyed as Exiv2 names them."""
    fields = {"Xmp.iptcExt.DigitalSourceType": DIGITAL_SOURCE_TYPE,
              "Xmp.xmp.CreatorTool": provenance.creator_tool}  # fmt: skip
    fields.update({f"Xmp.{PREFIX}.{key}": value for key, value in _values(provenance).items()})
    return fields


def film_record(provenance: Provenance) -> str:
    """The record written into a colorized film (a container tag, ``FILM_TAG``): the same
    properties as a photo's XMP, as JSON."""
    return json.dumps({**_values(provenance), "CreatorTool": provenance.creator_tool,
                       "DigitalSourceType": DIGITAL_SOURCE_TYPE})  # fmt: skip


def parse_film_record(text: str | None) -> tuple[RecordState, Provenance | None]:
    """Provenance from a film's record (see ``film_record``; None: the film has none)."""
    if text is None:
        return RecordState.NONE, None
    try:
        values = json.loads(text) if len(text) <= MAX_XMP_BYTES else None
    except (ValueError, RecursionError):
        values = None
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        return RecordState.UNKNOWN, None
    return _from_values(values)


def _values(provenance: Provenance) -> dict[str, str]:
    recipe = provenance.recipe
    return {
        "RecordVersion": str(RECORD_VERSION),
        "Model": provenance.model_name,
        "ModelSHA256": recipe.model_sha256,
        "RenderSize": str(recipe.render_size),
        "Saturation": f"{recipe.saturation:g}",
        "HintsCount": str(provenance.hints_count),
        "HintsSHA256": recipe.hints_sha256,
        "Original": provenance.original_name,
        "OriginalSHA256": provenance.original_sha256,
        **_stamp_values(provenance.original_stamp),
    }


def _stamp_values(stamp: OriginalStamp | None) -> dict[str, str]:
    if stamp is None:
        return {}
    return {"OriginalBytes": str(stamp.size), "OriginalModified": stamp.modified}


def embed(data: bytes, provenance: Provenance) -> bytes:
    """``data`` (a JPEG, PNG, TIFF or WebP file) with the provenance XMP added. Raises whatever
    Exiv2 raises for data it cannot handle; the caller decides what that costs."""
    parts = exiv2.Parts(xmp=xmp_fields(provenance), namespace=(NAMESPACE, PREFIX))
    data, failed = exiv2.edit(data, parts)
    if failed:
        raise failed["xmp"]
    return data


def read_provenance(path: str | os.PathLike) -> tuple[RecordState, Provenance | None]:
    """The provenance recorded in the image at ``path``: (FOUND, it), (NONE, None) when it has
    none, (UNKNOWN, None) when it cannot be trusted. Reads only the file's header; never raises.
    A film's record is a tag of its container (``film_record``), read with PyAV."""
    if Path(path).suffix.lower() in VIDEO_EXTENSIONS:
        return _read_film_record(path)
    try:
        # never waits on a pipe; a result over Pillow's 179 MP bomb limit is read as any other
        with os.fdopen(open_regular(path), "rb") as fh, metadata.open_header(fh) as im:
            packet = im.info.get("xmp")
    except Exception:  # not an image we can open: nothing we could trust
        logger.debug("No provenance read from %s", path, exc_info=True)
        return RecordState.UNKNOWN, None
    if not packet:
        return RecordState.NONE, None
    return parse_packet(packet if isinstance(packet, bytes) else str(packet).encode("utf-8", "replace"))


def _read_film_record(path) -> tuple[RecordState, Provenance | None]:
    from colorize_app.core import film_io  # PyAV: only once a film's result is read

    try:
        return parse_film_record(film_io.container_tag(path, FILM_TAG))
    except Exception:  # not a film we can open: nothing we could trust
        logger.debug("No provenance read from %s", path, exc_info=True)
        return RecordState.UNKNOWN, None


def parse_packet(packet: bytes) -> tuple[RecordState, Provenance | None]:
    """Provenance from an XMP packet (see ``read_provenance``)."""
    if len(packet) > MAX_XMP_BYTES or b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        return RecordState.UNKNOWN, None
    if NAMESPACE.encode() not in packet:
        return RecordState.NONE, None
    try:
        values = _properties(ET.fromstring(packet.strip().strip(b"\x00")))
    except (ET.ParseError, RecursionError):
        return RecordState.UNKNOWN, None
    return _from_values(values)


def _from_values(values: dict[str, str]) -> tuple[RecordState, Provenance | None]:
    try:
        if int(values.get("RecordVersion", "0")) != RECORD_VERSION:
            return RecordState.UNKNOWN, None
        recipe = Recipe(values.get("ModelSHA256", ""), int(values["RenderSize"]),
                        float(values["Saturation"]), values["HintsSHA256"])  # fmt: skip
        # Absent from records written before Colorize recorded them: the original is then not
        # compared. (An older Colorize ignores both: it keeps only the properties it knows.)
        stamp = (OriginalStamp(int(values["OriginalBytes"]), values.get("OriginalModified", ""))
                 if "OriginalBytes" in values else None)  # fmt: skip
        return RecordState.FOUND, Provenance(
            recipe, values.get("Model", ""), int(values.get("HintsCount", "0")),
            values.get("Original", ""), values.get("OriginalSHA256", ""),
            values.get("CreatorTool", ""), stamp,
        )
    except (KeyError, ValueError):
        return RecordState.UNKNOWN, None


def _properties(root: ET.Element) -> dict[str, str]:
    """Our properties and CreatorTool, written as attributes or as elements of rdf:Description."""
    found: dict[str, str] = {}
    for description in root.iter(f"{{{RDF}}}Description"):
        for key, value in description.attrib.items():
            _keep(found, key, value)
        for child in description:
            _keep(found, child.tag, child.text or "")
    return found


def _keep(found: dict[str, str], tag: str, value: str) -> None:
    if tag.startswith(f"{{{NAMESPACE}}}") and tag.split("}")[1] in _PROPERTIES:
        found[tag.split("}")[1]] = value.strip()
    elif tag == f"{{{XMP_BASIC}}}CreatorTool":
        found["CreatorTool"] = value.strip()
