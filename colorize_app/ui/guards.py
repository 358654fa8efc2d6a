"""The questions the window asks before it loses work: replacing saved results, quitting mid-batch.

Plain functions (tests replace them), each a modal message box.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget


def _tr(text: str) -> str:
    return QCoreApplication.translate("guards", text)


def ask_replace(parent: QWidget, names: list[str]) -> tuple[bool, bool]:
    """"Replace these saved results?" -> (replace, don't ask again)."""
    box = QMessageBox(QMessageBox.Icon.Question, _tr("Replace Saved Results?"),
                      _tr("{0} already has a saved result, which the new one will replace.").format(
                          names[0]) if len(names) == 1 else
                      _tr("{0} photos already have saved results, which the new ones will "
                          "replace.").format(len(names)),
                      QMessageBox.StandardButton.Cancel, parent)
    replace = box.addButton(_tr("&Replace"), QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    again = QCheckBox(_tr("&Don't ask again"))
    box.setCheckBox(again)
    box.exec()
    chose = box.clickedButton() is replace
    return chose, chose and again.isChecked()


def ask_quit_mid_batch(parent: QWidget, left: int) -> bool:
    """True: stop the batch and quit (results already saved are kept)."""
    box = QMessageBox(QMessageBox.Icon.Warning, _tr("Quit While Colorizing?"),
                      _tr("{0} photo(s) are not done yet. Quitting now stops the photo in progress; "
                          "results already saved are kept, and opening the folder again "
                          "resumes.").format(left),
                      QMessageBox.StandardButton.Cancel, parent)
    quit_button = box.addButton(_tr("&Stop and Quit"), QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is quit_button
