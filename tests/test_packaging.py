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
RESOURCES = ROOT / "resources"  # installed as the package colorize_app.resources
ICON = RESOURCES / f"{APP_ID}.svg"
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


def assets() -> list[str]:
    """Every non-code asset of the source tree, as a path inside an installed package."""
    found = [f"colorize_app/resources/{p.name}" for p in sorted(RESOURCES.iterdir())
             if p.is_file() and p.suffix != ".py"]
    weights = sorted((ROOT / "colorize_app" / "weights").glob("*.safetensors"))
    return found + [f"colorize_app/weights/{w.name}" for w in weights]


def run_spec() -> dict:
    """Execute the PyInstaller spec with PyInstaller's objects stubbed: what it asks to bundle."""
    import sys
    import types

    seen: dict = {}
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_data_files = lambda package, **kw: [(f"<{package} data>", package)]
    hooks.collect_dynamic_libs = lambda package, **kw: []
    hooks.copy_metadata = lambda dist: [(f"<{dist} metadata>", f"{dist}.dist-info")]
    stubs = {name: types.ModuleType(name) for name in ("PyInstaller", "PyInstaller.utils")}
    stubs["PyInstaller.utils.hooks"] = hooks

    def analysis(scripts, **kwargs):
        seen.update(kwargs, scripts=scripts)
        return types.SimpleNamespace(pure=[], scripts=[], binaries=[], datas=kwargs["datas"])

    names = {"SPECPATH": str(PACKAGING), "Analysis": analysis, "PYZ": lambda *a, **k: None,
             "EXE": lambda *a, **k: None, "COLLECT": lambda *a, **k: None,
             "BUNDLE": lambda *a, **k: None, "__file__": str(SPEC)}
    saved_modules, saved_path = dict(sys.modules), list(sys.path)
    sys.modules.update(stubs)
    try:
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), names)
    finally:
        sys.path[:] = saved_path
        for name in stubs:
            sys.modules.pop(name, None)
            if name in saved_modules:
                sys.modules[name] = saved_modules[name]
    return seen


def test_the_bundle_gets_every_asset_where_the_package_finds_it():
    spec = run_spec()
    bundled = set()
    for source, dest in spec["datas"]:
        source = Path(source)
        if source.is_dir():
            bundled |= {f"{dest}/{p.relative_to(source).as_posix()}" for p in source.rglob("*")
                        if p.is_file()}
        elif source.is_file():
            bundled.add(f"{dest}/{source.name}")
    missing = [asset for asset in assets() if asset not in bundled]
    assert not missing, f"the PyInstaller bundle would lack {missing}"
    assert ("<colorize metadata>", "colorize.dist-info") in spec["datas"]  # else version 0.0.0
    assert all(Path(script).is_file() for script in spec["scripts"])
    import importlib.util

    for module in spec["hiddenimports"]:
        assert importlib.util.find_spec(module) is not None, module


def _copy_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    for name in ("colorize_app", "resources", "training"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    return target


def _locate_in(sys_path_code: str, cwd: Path) -> dict:
    """Where a fresh interpreter, with only ``sys_path_code``'s view of Colorize, finds its assets."""
    import json
    import sys
    import sysconfig

    code = (
        "import json, sys, site\n"
        f"{sys_path_code}\n"
        f"sys.path.append({sysconfig.get_paths()['purelib']!r})  # torch, numpy, ... (no .pth)\n"
        "from colorize_app.core.assets import default_weights_path\n"
        "from colorize_app.selftest import SAMPLE_PHOTO\n"
        "from colorize_app.ui.resources import app_icon_path, sample_photo\n"
        "import colorize_app\n"
        "print(json.dumps({'package': colorize_app.__file__, 'weights': str(default_weights_path()),\n"
        "                  'sample': str(SAMPLE_PHOTO), 'icon': str(app_icon_path()),\n"
        "                  'menu_sample': str(sample_photo())}))\n"
    )
    # -S: no site-packages .pth files, so the development install of this checkout stays out.
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy of this tree as `pip wheel` builds it."""
    import sys

    tmp = tmp_path_factory.mktemp("wheel")
    project = _copy_project(tmp_path_factory.mktemp("project"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "--quiet", "-w", str(tmp), str(project)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return next(tmp.glob("colorize-*.whl"))


def test_the_wheel_holds_every_asset_and_package(built_wheel):
    import zipfile

    names = set(zipfile.ZipFile(built_wheel).namelist())
    missing = [asset for asset in assets() if asset not in names]
    assert not missing, f"the wheel lacks {missing}"
    packages = [p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "colorize_app").rglob(
        "__init__.py") if "__pycache__" not in p.parts]
    missing = [f"{p}/__init__.py" for p in packages if f"{p}/__init__.py" not in names]
    assert not missing, f"pyproject.toml's package list misses {missing}"


def test_an_installed_wheel_finds_its_assets(built_wheel, tmp_path):
    import zipfile

    site = tmp_path / "site"
    zipfile.ZipFile(built_wheel).extractall(site)  # what pip install puts in site-packages
    found = _locate_in(f"sys.path.insert(0, {str(site)!r})", tmp_path)
    assert Path(found["package"]).is_relative_to(site)
    for key in ("weights", "sample", "icon", "menu_sample"):
        assert Path(found[key]).is_relative_to(site / "colorize_app"), found
        assert Path(found[key]).is_file(), found


def test_an_editable_install_finds_the_assets_in_the_source_tree(tmp_path):
    import sys
    import zipfile

    (tmp_path / "project").mkdir()
    project = _copy_project(tmp_path / "project")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build = ("from setuptools import build_meta; import sys; "
             "print(build_meta.build_editable(sys.argv[1]))")
    done = subprocess.run([sys.executable, "-c", build, str(wheels)], cwd=project,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    site = tmp_path / "site"
    zipfile.ZipFile(wheels / done.stdout.strip().splitlines()[-1]).extractall(site)
    found = _locate_in(f"site.addsitedir({str(site)!r})", tmp_path)
    assert Path(found["package"]).is_relative_to(project / "colorize_app")
    assert Path(found["sample"]) == project / "resources" / "sample.jpg"
    assert Path(found["icon"]).is_relative_to(project / "resources")
    assert Path(found["weights"]).is_relative_to(project / "colorize_app" / "weights")
    for key in ("weights", "sample", "icon", "menu_sample"):
        assert Path(found[key]).is_file(), found


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
