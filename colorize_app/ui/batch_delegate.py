"""How one row of the batch list looks: thumbnail, name, state line, status icon, progress."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from colorize_app.core.vocabulary import Status
from colorize_app.ui import icons
from colorize_app.ui.batch_model import DetailRole, ProgressRole, StatusIconRole, StatusRole

THUMB = 56
PAD = 6
ICON = 20


class BatchItemDelegate(QStyledItemDelegate):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._placeholders: dict[tuple[bool, int], QIcon] = {}
        self._pixmaps: dict[tuple[int, int, int, float], QPixmap] = {}

    def _placeholder(self, failed: bool) -> QIcon:
        # Keyed by the text colour too, so a light/dark switch gets freshly tinted icons.
        key = (failed, QApplication.palette().color(QPalette.ColorRole.WindowText).rgb())
        if key not in self._placeholders:
            name = "mdi6.image-broken-variant" if failed else "mdi6.image-outline"
            self._placeholders[key] = icons.icon(name)
        return self._placeholders[key]

    def _draw_icon(self, painter: QPainter, icon: QIcon, rect: QRect) -> None:
        # qtawesome draws its glyph in Python on every paint; a list repaints every row often.
        ratio = painter.device().devicePixelRatioF()
        key = (icon.cacheKey(), rect.width(), rect.height(), ratio)
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = self._pixmaps[key] = icon.pixmap(rect.size(), ratio)
        painter.drawPixmap(rect, pixmap)

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 (Qt override)
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(240, THUMB + 2 * PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        style = option.widget.style() if option.widget else QApplication.style()
        # The panel alone (selection, hover, focus), with no text or icon of the style's own.
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = type(opt.icon)()
        opt.features &= ~QStyleOptionViewItem.ViewItemFeature.HasDecoration
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = option.rect
        thumb_rect = QRect(rect.left() + PAD, rect.top() + PAD, THUMB, THUMB)
        thumbnail = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(thumbnail, QImage) and not thumbnail.isNull():
            size = thumbnail.size().scaled(thumb_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(thumb_rect.center())
            painter.drawImage(target, thumbnail)
        else:  # not decoded yet, or not decodable at all
            painter.fillRect(thumb_rect, option.palette.color(QPalette.ColorRole.AlternateBase))
            failed = index.data(StatusRole) == Status.FAILED
            self._draw_icon(painter, self._placeholder(failed), thumb_rect.adjusted(14, 14, -14, -14))

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        icon_rect = QRect(rect.right() - PAD - ICON, rect.top() + (rect.height() - ICON) // 2,
                          ICON, ICON)
        self._draw_icon(painter, index.data(StatusIconRole), icon_rect)

        left = thumb_rect.right() + PAD * 2
        text_width = icon_rect.left() - PAD - left
        line = option.fontMetrics.height()
        name_rect = QRect(left, rect.top() + PAD, text_width, line)
        painter.setPen(option.palette.color(text_role))
        name = option.fontMetrics.elidedText(index.data(), Qt.TextElideMode.ElideMiddle, text_width)
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)

        detail_rect = QRect(left, name_rect.bottom() + 2, text_width, line)
        painter.setPen(option.palette.color(QPalette.ColorGroup.Disabled, text_role)
                       if not selected else option.palette.color(text_role))
        detail = option.fontMetrics.elidedText(index.data(DetailRole), Qt.TextElideMode.ElideRight,
                                               text_width)
        painter.drawText(detail_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         detail)

        if index.data(StatusRole) == Status.WORKING:
            bar = QRect(left, detail_rect.bottom() + 4, text_width, 4)
            painter.fillRect(bar, option.palette.color(QPalette.ColorRole.Mid))
            done = QRect(bar)
            done.setWidth(round(bar.width() * float(index.data(ProgressRole) or 0.0)))
            painter.fillRect(done, option.palette.color(QPalette.ColorRole.Highlight))
        painter.restore()
