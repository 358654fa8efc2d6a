"""The questions the window asks before it loses work: replacing saved results, redoing
out-of-date ones, quitting mid-batch or with hinted results not saved.

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
    return _confirm(parent, QMessageBox.Icon.Warning, _tr("Quit While Colorizing?"),
                    _tr("{0} photo(s) are not done yet. Quitting now stops the photo in progress; "
                        "results already saved are kept, and opening the folder again "
                        "resumes.").format(left),
                    QMessageBox.StandardButton.Cancel, _tr("&Stop and Quit"),
                    QMessageBox.ButtonRole.DestructiveRole)  # fmt: skip


def ask_redo_out_of_date(parent: QWidget, count: int) -> bool:
    """"Redo the results saved with other hints, settings or model?" -> True: redo them."""
    return _confirm(parent, QMessageBox.Icon.Question, _tr("Redo Out-of-Date Results?"),
                    _tr("{0} saved result(s) were made with other hints, settings or model than "
                        "now. Make them again? The new results replace the saved ones.").format(count),
                    QMessageBox.StandardButton.No, _tr("&Redo Them"),
                    QMessageBox.ButtonRole.AcceptRole)  # fmt: skip


def _confirm(parent: QWidget, icon, title: str, text: str, refuse, action: str, role) -> bool:
    """A message box whose default is ``refuse``; True when ``action`` was clicked."""
    box = QMessageBox(icon, title, text, refuse, parent)
    button = box.addButton(action, role)
    box.setDefaultButton(refuse)
    box.exec()
    return box.clickedButton() is button


SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def ask_quit_with_unsaved_hints(parent: QWidget, names: list[str]) -> str:
    """Hinted results that are not saved: SAVE them and quit, DISCARD them, or CANCEL."""
    box = QMessageBox(QMessageBox.Icon.Warning, _tr("Save Hinted Results?"),
                      (_tr("The result of {0} follows your colour hints but is not saved.").format(names[0])
                       if len(names) == 1 else
                       _tr("{0} results follow your colour hints but are not saved.").format(len(names)))
                      + " " + _tr("The hints themselves are kept either way."),
                      QMessageBox.StandardButton.Cancel, parent)
    save = box.addButton(_tr("&Save and Quit"), QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton(_tr("&Quit Without Saving"), QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(save)
    box.exec()
    return {save: SAVE, discard: DISCARD}.get(box.clickedButton(), CANCEL)
