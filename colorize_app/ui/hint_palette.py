"""Choosing a hint's colour: suggested colours for the spot, the recent ones, or the full dialog."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QPoint, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QColorDialog, QMenu, QWidget

from colorize_app.core.hint_colours import colour_name

RECENT_COUNT = 6
SWATCH = 16


def swatch(colour: str) -> QIcon:
    pixmap = QPixmap(SWATCH, SWATCH)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QColor(0, 0, 0))
    painter.setBrush(QColor(colour))
    painter.drawRect(0, 0, SWATCH - 1, SWATCH - 1)
    painter.end()
    return QIcon(pixmap)


def label(colour: str) -> str:
    """A suggestion's menu text: what it is like, then its code ("sky  #87a9d0")."""
    return f"{QCoreApplication.translate('colours', colour_name(colour))}  {colour}"


def pick_colour(parent: QWidget, suggested: list[str], recent: list[str], at: QPoint,
                current: str | None = None) -> str | None:
    """A menu at ``at`` (global): suggested colours first, then recent ones, then "Other colour…"
    (QColorDialog). Returns ``#rrggbb``, or None when the person closes it."""
    menu = QMenu(parent)
    menu.setToolTipsVisible(True)
    choices = {}
    fresh = [c for c in recent if c not in suggested][:RECENT_COUNT]
    for section, colours in ((parent.tr("Suggested for this spot"), suggested),
                             (parent.tr("Recent"), fresh)):
        if colours:
            menu.addSection(section)
            for colour in colours:
                choices[menu.addAction(swatch(colour), label(colour))] = colour
    menu.addSeparator()
    other = menu.addAction(parent.tr("Other Colour…"))
    chosen = menu.exec(at)
    menu.deleteLater()
    if chosen is None:
        return None
    if chosen is other:
        colour = QColorDialog.getColor(QColor(current or (suggested or ["#808080"])[0]), parent,
                                       parent.tr("Hint Colour"))
        return colour.name() if colour.isValid() else None
    return choices.get(chosen)
