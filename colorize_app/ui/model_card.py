"""The model in words a person reads: name, version, what it learnt from, licence, model card.

The weights' metadata (core.weights.read_metadata, "training") may carry the human-facing fields
`name`, `version`, `trained_on` and `licence`; the first shipped model has only a developer's
name and figures, so each field falls back to a plain sentence built from what it does have.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl

from colorize_app.core.assets import model_card_path

DEFAULT_LICENCE = ("The model was trained on photos that are mostly licensed for research or "
                   "non-commercial use only: read the model card before using its results "
                   "commercially.")


def _tr(text: str) -> str:
    return QCoreApplication.translate("model_card", text)


def model_name(card: dict, fallback: str = "") -> str:
    """"Colorize default (MSE + gain 1.45)" -> "Colorize default": brackets hold recipe notes."""
    name = str(card.get("display_name") or card.get("name") or fallback or "")
    plain = re.sub(r"\s*\([^)]*\)", "", name).strip()
    return plain or name


def model_version(card: dict) -> str:
    return str(card.get("version") or "1")


def trained_on(card: dict) -> str:
    """What the model learnt from, in words (never a development path)."""
    if card.get("trained_on"):
        return str(card["trained_on"])
    data = card.get("data") if isinstance(card.get("data"), dict) else {}
    photos = data.get("photos")
    if isinstance(photos, int) and photos > 0:
        return _tr("{0:,} colour photographs from public collections, shown to it in black and "
                   "white").format(photos)
    return _tr("colour photographs from public collections, shown to it in black and white")


def licence_note(card: dict) -> str:
    return str(card.get("licence") or card.get("license") or _tr(DEFAULT_LICENCE))


def model_card_url() -> QUrl | None:
    """The model card beside the code (source tree or installed copy); None when not installed
    (no web address is assumed: the project may be installed without any)."""
    path = model_card_path()
    return QUrl.fromLocalFile(str(path)) if path is not None else None


def describe(info: dict) -> list[tuple[str, str]]:
    """(label, text) rows for the About box from core.engine.Engine.describe()."""
    card = info.get("summary") or {}
    path = info.get("path") or ""
    rows = [(_tr("Model"), _tr("{0}, version {1}").format(
                model_name(card, Path(path).stem if path else ""), model_version(card))),
            (_tr("Learnt from"), trained_on(card)),
            (_tr("Runs on"), str(info.get("device", ""))),
            (_tr("Licence"), licence_note(card))]
    return [(label, text) for label, text in rows if text]
