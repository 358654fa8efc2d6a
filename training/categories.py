"""Which kind of photo a training or validation file is, from its source prefix (SOURCES.md).

The model card reports every metric per category, so a regression on one kind of photo cannot
hide in the mean. ``inet`` (one ImageNet photo per class) is mostly animals and objects; it is
counted with the objects, as are plants and flowers (``flower``, ``oxfl``, ``plant``, ``bloom``), mushrooms
(``shroom``), Caltech-101's mix (``calt``) and Imagenette's (``inette``). PACS's photos (``pacs``) count as
animals, though a third of them are guitars and houses.
"""

from __future__ import annotations

from .data import source_of

CATEGORIES = {
    "scenes and landscapes": ("intel", "sky", "room", "bsds", "sunhays", "urban", "camvid", "coco", "t91",
                              "house", "road", "cmua", "cmub", "cmuc", "cmud", "cmug", "oliva", "wthr",
                              "paris", "cmuk", "wang", "dphi"),
    "people": ("utkf", "face", "ccp", "har", "sport", "flkr"),
    "animals": ("animal", "pets", "racc", "kanga", "bird", "bug", "bee", "sea", "lion", "cattle", "rept",
                "bears", "brd", "horse", "moth", "oxpet", "cougar", "pacs", "farm", "marine", "spider",
                "aqua", "pest", "wani"),
    "objects": ("cloth", "dbth", "food", "flower", "inet", "car", "fruit", "boat",
                "calt", "plant", "vehic", "veg", "digger", "oxfl", "apple", "aidp", "instr",
                "cups", "plate", "inette", "shroom", "ships", "groc", "bloom", "motor", "lego",
                "furn", "musi"),
}
_BY_PREFIX = {prefix: name for name, prefixes in CATEGORIES.items() for prefix in prefixes}


def category_of(file_name: str) -> str:
    """The category of ``<prefix>_<number>.jpg``; "other" for a file of no known source."""
    return _BY_PREFIX.get(source_of(file_name), "other")
