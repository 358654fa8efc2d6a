"""Write the Flatpak module that installs Colorize's Python dependencies from pinned wheels.

    .venv/bin/python packaging/flatpak_modules.py [--arch x86_64] [--python 3.13] > packaging/python3-modules.json

Flatpak builds run without network, so every wheel must be a source with its URL and sha256.
flatpak-pip-generator does this for PyPI alone; PyTorch's CPU-only wheels (180 MB instead of the
3 GB CUDA build, and a Flatpak has no CUDA toolkit anyway) come from PyTorch's own index, so this
script asks pip's resolver itself (``pip install --dry-run --report``) with both indexes. The
dependency list is the installed project's (pyproject.toml's, so run it with the project's venv),
minus PySide6, which io.qt.PySide.BaseApp provides built against the runtime's Qt. Run it on a
machine with network, after any change of dependencies.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from importlib.metadata import requires
from pathlib import Path
from urllib.parse import unquote, urlparse

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROVIDED_BY_BASEAPP = ("pyside6", "pyside6-essentials", "shiboken6")


def requirements() -> list[str]:
    """The project's runtime dependencies (no extras), less what the PySide BaseApp already has."""
    deps = [d for d in requires("colorize") or [] if "extra ==" not in d]
    return [d for d in deps if not d.lower().replace("_", "-").startswith(PROVIDED_BY_BASEAPP)]


def platforms(arch: str) -> list[str]:
    """pip options for every manylinux tag the runtime (glibc 2.41 in freedesktop 25.08) accepts.

    pip does not widen one given --platform to the older glibc tags, and many wheels carry only those.
    """
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(41, 16, -1)] + [f"manylinux2014_{arch}"]
    return [f"--platform={tag}" for tag in tags]


def resolve(reqs: list[str], arch: str, python: str) -> list[dict]:
    """Wheels pip would install for the runtime's Python on ``arch``: [{name, url, sha256}]."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed",
             "--quiet", "--only-binary=:all:", *platforms(arch),
             f"--python-version={python}", "--implementation=cp", f"--target={tmp}/t",
             f"--index-url={TORCH_CPU_INDEX}", "--extra-index-url=https://pypi.org/simple",
             f"--report={report}", *reqs],
            check=True,
        )
        items = json.loads(report.read_text(encoding="utf-8"))["install"]
    wheels = []
    for item in items:
        info = item["download_info"]
        sha256 = (info.get("archive_info", {}).get("hashes") or {}).get("sha256")
        if not info["url"].startswith("https://") or not sha256:
            raise SystemExit(f"{item['metadata']['name']}: no https URL with a sha256 ({info['url']})")
        wheels.append({"name": item["metadata"]["name"], "url": info["url"], "sha256": sha256})
    return wheels


def module(wheels: list[dict], arch: str) -> dict:
    """The flatpak-builder module: file sources, then one offline ``pip install``."""
    names = " ".join(sorted(w["name"] for w in wheels))
    return {
        "name": "python3-modules",
        "buildsystem": "simple",
        "build-commands": [
            "pip3 install --verbose --exists-action=i --no-index --find-links=\"file://${PWD}\" "
            f"--prefix=${{FLATPAK_DEST}} --no-build-isolation {names}"
        ],
        "sources": [
            {
                "type": "file",
                "url": w["url"],
                "sha256": w["sha256"],
                # flatpak-builder would keep "%2B" of "+cpu" in the name, which pip cannot parse.
                "dest-filename": unquote(Path(urlparse(w["url"]).path).name),
                "only-arches": [arch],
            }
            for w in wheels
        ],
        "cleanup": ["/bin/torchrun", "/bin/torchfrtrace", "/lib/python3*/site-packages/torch/include"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="x86_64", choices=("x86_64", "aarch64"))
    parser.add_argument("--python", default="3.13", help="the runtime's Python (KDE 6.10: 3.13)")
    args = parser.parse_args(argv)
    wheels = resolve(requirements(), args.arch, args.python)
    json.dump(module(wheels, args.arch), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
