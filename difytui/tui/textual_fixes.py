"""Work-arounds for Textual defects the console would otherwise live with.

``StylesCache.get_inner_outer`` (textual/_styles_cache.py) is an instance method under
``functools.lru_cache(1024)``, so the cache's keys hold the ``StylesCache`` itself: the style
caches of the last 1024 widgets that rendered stay alive after the widgets are gone, with every
line they cached and the strips the compositor divided those lines into (7 caches each). A
streamed Markdown answer makes and drops widgets all the time, so a full garbage-collection pass
scanned ~75% more objects after a 4k-token answer (tracked in C by the lru_cache, they are never
found by ``gc.get_referrers`` walks). Textual issue #6665 (open in 8.2.8).

The fix caches the same pure function of the two colours, keyed by the colours only.
"""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style
from textual._styles_cache import StylesCache
from textual.color import Color


def install() -> bool:
    """Key ``get_inner_outer``'s cache by its colours only; True when the defect was there.
    Idempotent, and a no-op on a Textual whose method is no longer an ``lru_cache`` wrapper."""
    original = StylesCache.__dict__.get("get_inner_outer")
    compute = getattr(original, "__wrapped__", None)
    if compute is None or not hasattr(original, "cache_clear"):
        return False

    @lru_cache(1024)
    def inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
        return compute(None, base_background, background)  # the body never reads its ``cls``

    def get_inner_outer(self: StylesCache, base_background: Color, background: Color) -> tuple[Style, Style]:
        return inner_outer(base_background, background)

    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign]
    original.cache_clear()  # let go of the style caches it holds already
    return True
