"""Desktop integration files agree with each other and with the code: one id, one binary name,
the formats the engine reads. The Debian validators run when installed (never required)."""

from __future__ import annotations

import configparser
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from importlib.metadata import distribution
from pathlib import Path
from urllib.parse import urlparse

import pytest

from colorize_app import APP_ID

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
FLATPAK = PACKAGING / f"{APP_ID}.yml"
SPEC = PACKAGING / "colorize.spec"
ICON = ROOT / "colorize_app" / "resources" / f"{APP_ID}.svg"
PROJECT = distribution("colorize")  # the installed project: pyproject.toml's name, version, commands
GUI_COMMAND = "colorize-app"


def commands(group: str) -> set[str]:
    return {ep.name for ep in PROJECT.entry_points if ep.group == group}


def readable_mime_types() -> set[str]:
    """The MIME types of every format colorize_app.core.imageio reads."""
    from PIL import Image

    from colorize_app.core.imageio import FORMATS

    Image.init()
    return {Image.MIME[name] for name in FORMATS}


@pytest.fixture(scope="module")
def desktop() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


@pytest.fixture(scope="module")
def metainfo() -> ET.Element:
    return ET.parse(METAINFO).getroot()


def test_desktop_file_launches_the_window_with_the_files_it_is_given(desktop):
    assert desktop["Type"] == "Application"
    assert GUI_COMMAND in commands("gui_scripts")
    assert desktop["Exec"] == f"{GUI_COMMAND} %F"  # %F: several files, "Open with" on a selection
    assert desktop["TryExec"] == GUI_COMMAND
    assert desktop["Icon"] == APP_ID


def test_desktop_file_offers_exactly_the_formats_the_engine_reads(desktop):
    listed = [m for m in desktop["MimeType"].split(";") if m]
    assert set(listed) == readable_mime_types()


def test_metainfo_shares_the_one_application_id(metainfo):
    assert metainfo.get("type") == "desktop-application"
    assert metainfo.findtext("id") == APP_ID
    assert metainfo.findtext("launchable[@type='desktop-id']") == DESKTOP.name
    assert metainfo.findtext("metadata_license") == "CC0-1.0"
    assert "MIT" in metainfo.findtext("project_license")


def test_metainfo_provides_the_installed_commands_and_formats(metainfo):
    binaries = {b.text for b in metainfo.iter("binary")}
    assert binaries == commands("gui_scripts") | commands("console_scripts")
    assert {m.text for m in metainfo.iter("mediatype")} == readable_mime_types()


def test_metainfo_has_release_notes_for_this_version(metainfo):
    newest = metainfo.find("releases/release")
    assert newest.get("version") == PROJECT.version, "add <release> notes for the new version"
    assert newest.find("description/ul/li") is not None
    assert metainfo.find("content_rating[@type='oars-1.1']") is not None


def test_metainfo_screenshots_are_the_repositorys_docs_screenshots(metainfo):
    urls = [image.text for image in metainfo.iter("image")]
    assert urls, "software centres need at least one screenshot"
    names = [Path(urlparse(url).path).name for url in urls]
    for url in urls:
        assert "/docs/screenshots/" in url and url.endswith(".png")
    shots = ROOT / "docs" / "screenshots"
    if not list(shots.glob("*.png")):
        pytest.skip("no screenshots have been taken yet (docs/screenshots/take_screenshots.py)")
    missing = [name for name in names if not (shots / name).is_file()]
    assert not missing, f"metainfo names screenshots that docs/screenshots/ lacks: {missing}"
    for image, name in zip(metainfo.iter("image"), names):
        if image.get("width"):
            assert (int(image.get("width")), int(image.get("height"))) == png_size(shots / name), name


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]  # signature, IHDR length and type, then width and height
    return struct.unpack(">II", header[16:24])


def test_icon_is_a_square_scalable_svg_named_after_the_id():
    root = ET.parse(ICON).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    assert width == height


def test_spec_bundles_the_model_resources_and_metadata():
    spec = SPEC.read_text(encoding="utf-8")
    assert re.search(r'PACKAGE / "weights"\)\.glob\("\*\.safetensors"\)', spec)
    assert '(str(PACKAGE / "resources"), "colorize_app/resources")' in spec
    assert 'collect_data_files("qtawesome")' in spec
    assert 'copy_metadata("colorize")' in spec  # else the bundle reports version 0.0.0+source
    assert f'EXE_NAME = "{GUI_COMMAND}"' in spec
    entry = re.search(r'ROOT / "packaging" / "(\w+\.py)"', spec).group(1)
    assert (PACKAGING / entry).is_file()


def test_flatpak_manifest_installs_the_same_files_under_the_same_id():
    manifest = FLATPAK.read_text(encoding="utf-8")
    assert re.search(r"^id: (\S+)$", manifest, re.M).group(1) == APP_ID
    assert re.search(r"^command: (\S+)$", manifest, re.M).group(1) == GUI_COMMAND
    assert re.search(r"^runtime: org\.kde\.Platform$", manifest, re.M)
    installed = re.findall(r"install -Dm644 (\S+) ", manifest)
    assert len(installed) == 3
    for source in installed:
        assert (ROOT / source.replace("${FLATPAK_ID}", APP_ID)).is_file(), source


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate not installed (apt-get install desktop-file-utils)")
def test_desktop_file_validate_accepts_it():
    done = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None,
                    reason="appstreamcli not installed (apt-get install appstream)")
def test_appstreamcli_validates_the_metainfo():
    done = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
