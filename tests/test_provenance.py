"""Every result says what made it: XMP in JPEG, PNG, TIFF and WebP (16-bit too), read back by
ExifTool as a person or an agency would; --no-provenance; damaged or huge XMP never hurts."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timezone

import cv2
import numpy as np
import pytest
from photos import digest, opened, save_photo, sepia_print

from colorize_app import __version__, cli
from colorize_app.core import exiv2, provenance
from colorize_app.core.hints import Hint
from colorize_app.core.imageio import read_image
from colorize_app.core.job import Job, JobOptions, run_job
from colorize_app.core.provenance import DIGITAL_SOURCE_TYPE, RecordState, read_provenance
from colorize_app.core.sidecar import write_hints
from colorize_app.core.vocabulary import Status

EXIFTOOL = shutil.which("exiftool")
OPTIONS = JobOptions(render_size=64, saturation=0.8, model_name="test model", model_sha256="ab" * 32)


def warm(pixels, options, hints):
    """A stand-in network: a warm tint everywhere, at the network's size."""
    scale = options.render_size / max(pixels.shape[:2])
    h, w = (max(1, round(side * scale)) for side in pixels.shape[:2])
    return np.dstack([np.full((h, w), 12.0, np.float32), np.full((h, w), 30.0, np.float32)])


def read_back(path) -> dict[str, str]:
    """The XMP of ``path`` as ExifTool reports it; without ExifTool (a developer's machine that
    lacks it, never CI: .ci/run installs it), as Exiv2 reads it."""
    if EXIFTOOL is None:
        if os.environ.get("CI"):
            pytest.fail("ExifTool is missing in CI: .ci/run installs libimage-exiftool-perl")
        import pyexiv2

        with pyexiv2.Image(str(path)) as image:
            return {key.replace("Xmp.", "").replace(".", ":"): str(v) for key, v in image.read_xmp().items()}
    out = subprocess.run([EXIFTOOL, "-j", "-XMP:all", "-n", str(path)], capture_output=True, text=True, check=True)
    found = json.loads(out.stdout)[0]
    return {key: str(value) for key, value in found.items()}


def field(fields: dict[str, str], name: str) -> str:
    """A property by its name whatever group prefix the reader puts before it."""
    matches = [v for k, v in fields.items() if k.split(":")[-1].lower() == name.lower()]
    assert matches, f"{name} not in {sorted(fields)}"
    return matches[0]


def make(tmp_path, suffix: str, sixteen: bool = False):
    path = tmp_path / f"print{suffix}"
    if sixteen:
        pixels = sepia_print(48, 64).astype(np.uint16) * 257
        cv2.imwrite(str(path), cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    else:
        save_photo(path)
    return path


@pytest.mark.parametrize(("suffix", "sixteen"), [(".jpg", False), (".png", False), (".tif", False),
                                                 (".webp", False), (".png", True), (".tif", True)])  # fmt: skip
def test_every_format_says_it_was_colorized_and_by_what(tmp_path, suffix, sixteen):
    source = make(tmp_path, suffix, sixteen)
    write_hints(source, [Hint(0.5, 0.5, "#336699"), Hint(0.1, 0.9, "#aa3300")])
    before = digest(source)
    result = run_job(Job(source, tmp_path / f"out{suffix}", OPTIONS), warm)
    assert result.status == Status.DONE, result.reason
    assert result.note == ""
    assert digest(source) == before  # the original is only read
    if sixteen:
        assert read_image(result.output).pixels.dtype == np.uint16
    fields = read_back(result.output)
    assert field(fields, "DigitalSourceType") == DIGITAL_SOURCE_TYPE
    assert field(fields, "CreatorTool") == f"Colorize {__version__}"
    assert field(fields, "Model") == "test model"
    assert field(fields, "ModelSHA256") == "ab" * 32
    assert field(fields, "RenderSize") == "64"
    assert float(field(fields, "Saturation")) == 0.8
    assert field(fields, "HintsCount") == "2"
    assert field(fields, "HintsSHA256") == provenance.hints_digest(result.job.hints)
    assert field(fields, "Original") == source.name
    assert field(fields, "OriginalSHA256") == hashlib.sha256(source.read_bytes()).hexdigest()
    assert field(fields, "OriginalBytes") == str(source.stat().st_size)
    # the original's modification time, in UTC to the nanosecond (core.freshness compares it);
    # ExifTool shows it as a date of its own style (2024:05:31 16:08:37.123456789Z)
    seconds, fraction = divmod(source.stat().st_mtime_ns, 10**9)
    utc = datetime.fromtimestamp(seconds, timezone.utc)
    assert re.sub(r"\D", "", field(fields, "OriginalModified")) == f"{utc:%Y%m%d%H%M%S}{fraction:09d}"


def test_an_older_colorize_reads_a_newer_record(tmp_path, monkeypatch):
    """The original's size and time are new in the record, its version is not: a Colorize that
    knows only the properties before them still reads the record as its own."""
    source = make(tmp_path, ".jpg")
    result = run_job(Job(source, tmp_path / "out.jpg", OPTIONS), warm)
    recorded = read_provenance(result.output)[1]
    monkeypatch.setattr(provenance, "_PROPERTIES", provenance._PROPERTIES[:-2])  # as 0.1.0's
    state, older = read_provenance(result.output)
    assert state is RecordState.FOUND and older.recipe == recorded.recipe
    assert older.original_stamp is None and recorded.original_stamp is not None


def test_exif_and_icc_are_still_carried_beside_the_record(tmp_path):
    from PIL import Image, ImageCms

    exif = Image.Exif()
    exif[0x010F] = "Old Camera Co."
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = save_photo(tmp_path / "scan.jpg", exif=exif.tobytes(), icc_profile=icc)
    result = run_job(Job(source, tmp_path / "out.jpg", OPTIONS), warm)
    out = opened(result.output)
    assert out.getexif()[0x010F] == "Old Camera Co."
    assert out.info["icc_profile"] == icc
    assert read_provenance(result.output)[0] is RecordState.FOUND


def test_no_provenance_writes_none(tmp_path, tiny_weights, capsys):
    source = save_photo(tmp_path / "print.jpg")
    assert cli.main([str(source), "--weights", str(tiny_weights), "--render-size", "64", "--no-provenance"]) == 0
    capsys.readouterr()
    result = tmp_path / "print_colorized.jpg"
    assert "xmp" not in opened(result).info
    assert read_provenance(result) == (RecordState.NONE, None)


def test_the_command_line_records_the_real_model(tmp_path, tiny_weights, capsys):
    source = save_photo(tmp_path / "print.png")
    assert cli.main([str(source), "--weights", str(tiny_weights), "--render-size", "64"]) == 0
    capsys.readouterr()
    state, record = read_provenance(tmp_path / "print_colorized.png")
    assert state is RecordState.FOUND
    assert record.recipe.model_sha256 == hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    assert record.model_name and record.recipe.render_size == 64


def test_a_record_that_cannot_be_written_costs_the_record_not_the_photo(tmp_path, monkeypatch):
    def broken(data, parts):
        raise RuntimeError("Exiv2 is unhappy")

    monkeypatch.setattr(exiv2, "edit", broken)
    result = run_job(Job(save_photo(tmp_path / "p.jpg"), tmp_path / "out.jpg", OPTIONS), warm)
    assert result.status == Status.DONE
    assert "saved without its provenance record" in result.note and "Exiv2 is unhappy" in result.note
    assert opened(result.output).size == (64, 48)


def catalogued(path, *, iptc: bool = True, padding: int = 0):
    """``path`` with what an archive's catalogue writes into a scan: XMP (keywords, the box it
    came from, how it was turned) and IPTC keywords; ``padding``: bytes of Photoshop history."""
    import pyexiv2

    with pyexiv2.Image(str(path)) as image:
        xmp = {"Xmp.dc.subject": ["lake", "family"], "Xmp.photoshop.Source": "Box 12 / neg 345",
               "Xmp.tiff.Orientation": "6"}  # fmt: skip
        if padding:
            xmp["Xmp.photoshop.Instructions"] = "x" * padding
        image.modify_xmp(xmp)
        if iptc:
            image.modify_iptc({"Iptc.Application2.Keywords": ["lake", "family"]})
    return path


def read_catalogue(path) -> tuple[dict, dict]:
    import pyexiv2

    with pyexiv2.Image(str(path)) as image:
        return image.read_xmp(), image.read_iptc()


@pytest.mark.parametrize(("suffix", "sixteen"), [(".jpg", False), (".tif", False), (".tif", True),
                                                 (".png", False), (".webp", False)])  # fmt: skip
def test_a_result_keeps_the_archives_keywords_and_captions(tmp_path, suffix, sixteen):
    # The original's XMP and IPTC (keywords, captions, rights, where the negative is kept) were
    # dropped from every result: an archive's catalogue lost track of the colour version.
    source = catalogued(make(tmp_path, suffix, sixteen), iptc=suffix in (".jpg", ".tif"))
    result = run_job(Job(source, tmp_path / f"out{suffix}", OPTIONS), warm)
    assert result.status == Status.DONE and result.note == ""
    xmp, iptc = read_catalogue(result.output)
    assert xmp["Xmp.dc.subject"] == ["lake", "family"]
    assert xmp["Xmp.photoshop.Source"] == "Box 12 / neg 345"
    assert xmp.get("Xmp.tiff.Orientation", "1") == "1"  # the pixels are upright (a TIFF: absent)
    if suffix in (".jpg", ".tif"):
        assert iptc["Iptc.Application2.Keywords"] == ["lake", "family"]
    state, record = read_provenance(result.output)
    assert state is RecordState.FOUND and record.recipe.render_size == OPTIONS.render_size


def test_a_result_carrying_photoshops_long_history_still_reads_its_record(tmp_path):
    # 300 KB of history is more than a record alone would ever be: the result's record must read.
    source = catalogued(make(tmp_path, ".png"), iptc=False, padding=300_000)
    result = run_job(Job(source, tmp_path / "out.png", OPTIONS), warm)
    assert len(opened(result.output).info["xmp"]) > 300_000
    assert read_provenance(result.output)[0] is RecordState.FOUND


def test_a_carried_packet_that_grows_past_the_records_limit_leaves_the_record_readable(tmp_path):
    # 40,000 keywords: 0.9 MB, under the 1 MB carried, but Exiv2 lays each out on a line of its
    # own: 1.15 MB written, past the 1 MB + 64 KB a record is read from. The result's record
    # read as unknown (counted current, never redone by --update) and no note said a thing.
    keywords = "".join(f"<rdf:li>k{i}</rdf:li>" for i in range(40_000))
    packet = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>'
              f"{keywords}</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>")  # fmt: skip
    source = _png_with_xmp(tmp_path / "scan.png", packet.encode())
    result = run_job(Job(source, tmp_path / "out.png", OPTIONS), warm)
    assert result.status == Status.DONE, result.reason
    assert read_provenance(result.output)[0] is RecordState.FOUND
    assert "saved without its XMP keywords, captions and rights" in result.note


def test_the_record_goes_first_where_the_originals_xmp_leaves_no_room(tmp_path):
    # A JPEG's XMP holds 64 KB: an original's packet near that and the record do not fit together.
    source = catalogued(make(tmp_path, ".jpg"), padding=62_500)
    result = run_job(Job(source, tmp_path / "out.jpg", OPTIONS), warm)
    assert read_provenance(result.output)[0] is RecordState.FOUND
    assert "saved without its XMP keywords, captions and rights" in result.note
    assert read_catalogue(result.output)[1]["Iptc.Application2.Keywords"] == ["lake", "family"]


LIGHTROOM = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:cr="http://ns.adobe.com/camera-raw-settings/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmpMM:DocumentID="xmp.did:SCAN-DOC" xmpMM:OriginalDocumentID="xmp.did:SCAN-ORIGINAL"
    cr:ConvertToGrayscale="True" photoshop:ICCProfile="Dot Gain 20%" photoshop:Source="Box 12"
    tiff:ImageWidth="4000" exif:PixelXDimension="4000">
   <xmpMM:InstanceID>xmp.iid:SCAN-INSTANCE</xmpMM:InstanceID>
   <cr:Saturation>-100</cr:Saturation>
   <photoshop:ColorMode>1</photoshop:ColorMode>
   <tiff:BitsPerSample><rdf:Seq><rdf:li>16</rdf:li></rdf:Seq></tiff:BitsPerSample>
   <dc:subject><rdf:Bag><rdf:li>harbour</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"""


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_result_does_not_claim_the_originals_gray_settings_nor_its_identity(tmp_path, suffix):
    # A scan catalogued in Lightroom (Convert to Grayscale, saturation -100: develop settings
    # that Lightroom, Camera Raw and Bridge apply) came back claiming them, so the colour showed
    # gray there; it also claimed the scan's document IDs, profile, colour mode and pixel size.
    source = tmp_path / f"scan{suffix}"
    if suffix == ".png":
        _png_with_xmp(source, LIGHTROOM.encode())
    else:
        save_photo(source, xmp=LIGHTROOM.encode())
    results = [run_job(Job(source, tmp_path / f"out{n}{suffix}", OPTIONS), warm) for n in (1, 2)]
    assert all(r.status == Status.DONE and r.note == "" for r in results)
    xmp = read_catalogue(results[0].output)[0]
    assert not [key for key in xmp if key.startswith("Xmp.crs.")]
    for key in ("photoshop.ICCProfile", "photoshop.ColorMode", "tiff.ImageWidth",
                "tiff.BitsPerSample", "exif.PixelXDimension", "xmpMM.OriginalDocumentID"):  # fmt: skip
        assert f"Xmp.{key}" not in xmp, key
    assert xmp["Xmp.dc.subject"] == ["harbour"] and xmp["Xmp.photoshop.Source"] == "Box 12"
    # a document of its own, each result another, derived from the scan
    ids = [read_catalogue(r.output)[0]["Xmp.xmpMM.DocumentID"] for r in results]
    assert len(set(ids + ["xmp.did:SCAN-DOC"])) == 3
    assert xmp["Xmp.xmpMM.InstanceID"] != "xmp.iid:SCAN-INSTANCE"
    assert xmp["Xmp.xmpMM.DerivedFrom/stRef:documentID"] == "xmp.did:SCAN-DOC"
    assert xmp["Xmp.xmpMM.DerivedFrom/stRef:instanceID"] == "xmp.iid:SCAN-INSTANCE"
    assert xmp["Xmp.xmpMM.DerivedFrom/stRef:originalDocumentID"] == "xmp.did:SCAN-ORIGINAL"
    assert read_provenance(results[0].output)[0] is RecordState.FOUND


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif"])
def test_a_result_made_from_a_result_does_not_carry_the_older_record(tmp_path, suffix):
    # A colour result colorized again (say, another version of the model tried on it) with
    # --no-provenance carried the first result's record, judged from another file: --update
    # then called it out of date on every run and redid it, and a person read the wrong recipe.
    first = run_job(Job(make(tmp_path, suffix), tmp_path / f"first{suffix}", OPTIONS), warm)
    assert read_provenance(first.output)[0] is RecordState.FOUND
    options = JobOptions(render_size=64, provenance=False, include_colour=True)
    again = run_job(Job(first.output, tmp_path / f"again{suffix}", options), warm)
    assert again.status == Status.DONE, again.reason
    assert read_provenance(again.output) == (RecordState.NONE, None)
    xmp = read_catalogue(again.output)[0]
    assert not [key for key in xmp if key.startswith(("Xmp.colorize.", "Xmp.iptcExt.", "Xmp.xmp."))]


def test_bmp_results_say_they_carry_no_record(tmp_path):
    result = run_job(Job(save_photo(tmp_path / "p.bmp"), tmp_path / "out.bmp", OPTIONS), warm)
    assert result.status == Status.DONE
    assert "BMP files cannot hold one" in result.note


def _png_with_xmp(path, packet: bytes):
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet.decode("utf-8", "replace"), zip=False)
    Image.fromarray(sepia_print()).save(path, pnginfo=info)
    return path


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((98 + i,) + (97 + i,) * 10) for i in range(8))
          + b']><x:xmpmeta xmlns:x="adobe:ns:meta/">&i;' + provenance.NAMESPACE.encode() + b"</x:xmpmeta>")  # fmt: skip


@pytest.mark.parametrize("packet", [
    b"<x:xmpmeta " + provenance.NAMESPACE.encode() + b" this is not XML",
    LAUGHS,
    b"<x " + provenance.NAMESPACE.encode() + b">" + b" " * (provenance.MAX_XMP_BYTES + 10) + b"</x>",
], ids=["damaged", "entity-bomb", "huge"])  # fmt: skip
def test_damaged_or_hostile_records_read_as_unknown(tmp_path, packet):
    path = _png_with_xmp(tmp_path / "result.png", packet)
    assert read_provenance(path) == (RecordState.UNKNOWN, None)


def test_a_record_from_a_newer_colorize_reads_as_unknown(tmp_path):
    result = run_job(Job(save_photo(tmp_path / "p.png"), tmp_path / "out.png", OPTIONS), warm)
    packet = opened(result.output).info["xmp"]
    newer = packet.replace(b'RecordVersion="1"', b'RecordVersion="7"')
    assert newer != packet
    assert provenance.parse_packet(newer) == (RecordState.UNKNOWN, None)


def test_a_photo_with_huge_or_hostile_xmp_is_colorized_and_left_alone(tmp_path):
    sources = [_png_with_xmp(tmp_path / "bomb.png", LAUGHS),
               _png_with_xmp(tmp_path / "huge.png", b"<x>" + b"x" * 5_000_000 + b"</x>")]  # fmt: skip
    for source in sources:
        before = digest(source)
        result = run_job(Job(source, tmp_path / f"{source.stem}_c.png", OPTIONS), warm)
        assert result.status == Status.DONE, result.reason
        assert digest(source) == before
        assert read_provenance(result.output)[0] is RecordState.FOUND  # ours replaces theirs
    assert len(io.BytesIO(opened(result.output).info["xmp"]).getvalue()) < 10_000


def test_the_record_of_a_result_over_pillows_bomb_limit_is_read(tmp_path, monkeypatch):
    # Pillow refuses headers over 179 MP (twice its limit) as a decompression bomb: a big scan's
    # result then read as "damaged", counted current, and --update never redid it. The limit is
    # lowered here so that a small result stands for a 180 MP one.
    from PIL import Image

    result = run_job(Job(save_photo(tmp_path / "scan.png"), tmp_path / "out.png", OPTIONS), warm)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the result is 3,072 pixels
    state, record = read_provenance(result.output)
    assert state is RecordState.FOUND
    assert record.recipe.render_size == OPTIONS.render_size


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_pipe_named_as_the_model_or_sitting_where_a_result_goes_never_makes_it_wait(tmp_path):
    pipe = tmp_path / "model.safetensors"
    os.mkfifo(pipe)
    assert provenance.model_identity(pipe) == provenance.ModelIdentity()
    assert read_provenance(pipe) == (RecordState.UNKNOWN, None)
