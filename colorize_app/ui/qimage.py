"""The one place that turns numpy arrays into QImages.

The worker sends plain arrays; only the GUI thread wraps them, so no QPixmap ever crosses a thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

_FORMATS = {
    (1, np.uint8): QImage.Format.Format_Grayscale8,
    (3, np.uint8): QImage.Format.Format_RGB888,
    (4, np.uint8): QImage.Format.Format_RGBA8888,
    (1, np.uint16): QImage.Format.Format_Grayscale16,
    (3, np.uint16): QImage.Format.Format_RGBX64,  # padded below: Qt has no 3-channel 16-bit format
    (4, np.uint16): QImage.Format.Format_RGBA64,
}


def to_qimage(pixels: np.ndarray) -> QImage:
    """Wrap an HxW, HxWx3 or HxWx4 uint8/uint16 array (RGB order) as a QImage that owns its data.

    The result is a deep copy, so the array may be freed or reused as soon as this returns.
    """
    if pixels.ndim == 2:
        channels = 1
    elif pixels.ndim == 3 and pixels.shape[2] in (1, 3, 4):
        channels = pixels.shape[2]
        if channels == 1:
            pixels = pixels[:, :, 0]
    else:
        raise ValueError(f"cannot show an array of shape {pixels.shape}")
    dtype = pixels.dtype.type
    if (channels, dtype) not in _FORMATS:
        raise ValueError(f"cannot show an array of type {pixels.dtype}")
    fmt = _FORMATS[(channels, dtype)]
    if fmt == QImage.Format.Format_RGBX64:
        opaque = np.full(pixels.shape[:2] + (1,), np.iinfo(np.uint16).max, np.uint16)
        pixels = np.concatenate([pixels, opaque], axis=2)
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    image = QImage(pixels.data, width, height, pixels.strides[0], fmt)
    # QImage borrows the buffer; copy() detaches it so the array's lifetime no longer matters.
    return image.copy()



def wrap_display(pixels: np.ndarray) -> QImage:
    """Wrap a display level (HxWx4 uint8 in Qt's native 32-bit order) without copying it.

    PySide keeps a reference to the array for as long as Qt holds the image, and painting this
    format is Qt's fastest path, so a new 12 MP result costs the window's thread nothing.
    """
    if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.dtype != np.uint8:
        raise ValueError(f"expected an HxWx4 uint8 display level, got {pixels.shape} {pixels.dtype}")
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    return QImage(pixels, width, height, pixels.strides[0], QImage.Format.Format_RGB32)
