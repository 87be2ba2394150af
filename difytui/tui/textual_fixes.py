"""Work-arounds for Textual defects the console would otherwise live with.

Both make a full garbage-collection pass scan less while an answer streams: every remaining long
block of the loop during a stream is such a pass, and its cost is the tracked objects it scans.

**Style caches kept alive.** ``StylesCache.get_inner_outer`` (textual/_styles_cache.py) is an
instance method under ``functools.lru_cache(1024)``, so the cache's keys hold the ``StylesCache``
itself: the style caches of the last 1024 widgets that rendered stay alive after the widgets are
gone, with every line they cached and the strips the compositor divided those lines into. A
streamed Markdown answer makes and drops widgets all the time, so a full garbage-collection pass
scanned ~75% more objects after a 4k-token answer (tracked in C by the lru_cache, they are never
found by ``gc.get_referrers`` walks). Textual issue #6665 (open in 8.2.8).

The fix caches the same pure function of the two colours, keyed by the colours only.

**Seven caches per strip.** Every ``Strip`` (one line of a widget, and each piece the compositor
cuts it into) makes seven ``FIFOCache`` objects when it is built, though most strips never use
one. Mid-stream, 58k of the 145k objects a full pass scanned were those caches (4k tokens at
150/s). The fix makes each cache when it is first used, as Textual's ``Content`` already does
with its own ``_divide_cache``: a full pass then scanned 88k objects at the same point.

**Strips in their own caches.** ``Strip.divide`` caches ``[self]`` when the one cut is the strip's
end, and ``Strip.crop_extend`` caches ``self`` when nothing is cropped or added: the compositor
does both to nearly every line of every frame, so each line drawn became a reference cycle (the
strip, its segments, the cache) that only a full pass frees. With answers drawn as lines
(:mod:`.markdown_lines`) these were ~195k of the objects a full pass freed every few seconds of
a paced 4k-token answer (20–28 ms a pass). The fix returns those results uncached (they cost
nothing to make), so refcounting frees the lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual._styles_cache import StylesCache
from textual.cache import FIFOCache
from textual.color import Color
from textual.strip import Strip


def install() -> bool:
    """Install the fixes; True when any defect was there. Idempotent."""
    styles = _style_cache_keys()
    strips = _lazy_strip_caches()
    cycles = _acyclic_strip_caches()
    return styles or strips or cycles


def _style_cache_keys() -> bool:
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


def _lazy_strip_caches() -> bool:
    """Make a strip's caches on first use; True when strips made them eagerly. A no-op unless
    ``Strip`` is as expected (its other slots start as None), so a changed Textual is left as is."""
    if "__getattr__" in vars(Strip):
        return False  # installed already (Textual's Strip defines none)
    probe = Strip([])
    slots = set(Strip.__slots__)
    sizes = {
        name: cache._maxsize for name in slots if isinstance(cache := getattr(probe, name, None), FIFOCache)
    }
    rest = slots - set(sizes) - {"_segments", "_cell_length"}
    if not sizes or any(getattr(probe, name, 0) is not None for name in rest):
        return False
    defaults = tuple(sorted(rest))

    def __init__(self: Strip, segments: Iterable[Segment], cell_length: int | None = None) -> None:
        self._segments = list(segments)
        self._cell_length = cell_length
        for name in defaults:
            object.__setattr__(self, name, None)

    def __getattr__(self: Strip, name: str) -> FIFOCache[object, object]:
        """Called only for a slot not set yet: a cache's first use makes it."""
        size = sizes.get(name)
        if size is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        cache: FIFOCache[object, object] = FIFOCache(size)
        object.__setattr__(self, name, cache)
        return cache

    Strip.__init__ = __init__  # type: ignore[method-assign]
    Strip.__getattr__ = __getattr__  # type: ignore[attr-defined]
    return True


def _acyclic_strip_caches() -> bool:
    """Never cache a strip in its own cache; True when installed now (Idempotent)."""
    if getattr(Strip.divide, "_difytui_acyclic", False):
        return False
    divide = Strip.divide
    crop_extend = Strip.crop_extend

    def acyclic_divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        cuts = list(cuts)
        length = self.cell_length
        if [cut for cut in cuts if cut <= length] == [length]:
            return [self]
        return divide(self, cuts)

    def acyclic_crop_extend(self: Strip, start: int, end: int, style: Style | None) -> Strip:
        if start == 0 and end == self.cell_length:
            return self
        return crop_extend(self, start, end, style)

    acyclic_divide._difytui_acyclic = True  # type: ignore[attr-defined]
    Strip.divide = acyclic_divide  # type: ignore[method-assign]
    Strip.crop_extend = acyclic_crop_extend  # type: ignore[method-assign]
    return True
