"""CSS colours, parsed once for everyone (the structure linter, the dark-mode preview) by tinycss2."""

from __future__ import annotations

from functools import lru_cache

from tinycss2.color3 import parse_color

SYSTEM_COLORS = {"windowtext": (0.0, 0.0, 0.0, 1.0), "window": (255.0, 255.0, 255.0, 1.0)}  # seen in pasted HTML


@lru_cache(maxsize=4096)
def parse_css_color(text: str) -> tuple[float, float, float, float] | None:
    """(r, g, b, alpha) with 0–255 channels and 0–1 alpha; None for currentColor, var(), unknown names."""
    value = text.strip()
    parsed = parse_color(value)
    if parsed is None or isinstance(parsed, str):
        return SYSTEM_COLORS.get(value.lower())
    return (parsed.red * 255, parsed.green * 255, parsed.blue * 255, parsed.alpha)
