"""Math: LaTeX → inline SVG in pure Python (ziamath), fit for WeChat.

ziamath is told to emit plain <path>s (no <use>/<symbol>/id, which WeChat drops), filled with
`currentColor` so formulas follow the text colour in dark mode. Coordinates are rounded to one
decimal (ziamath's own precision setting): a tenth of a CSS pixel is invisible and it halves the SVG.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

_VERSION = "math-1"  # bump when the SVG we make changes
INLINE_SIZE = 16.0  # px, close to body text
BLOCK_SIZE = 17.0
_VIEWBOX = re.compile(r'viewBox="([^"]*)"')
_PATH_DATA = re.compile(r'd="([^"]*)"')
_COMMAND_SPACE = re.compile(r"\s*([MLQCZHVTSA])\s*", re.IGNORECASE)


class MathError(Exception):
    pass


def render_math(latex: str, display: bool, cache_dir: Path | None = None) -> str:
    """SVG for a formula; memoised in the process and, with `cache_dir`, on disk across processes
    (typesetting costs ~7 ms a formula, so check, build, publish and the preview share the work)."""
    if cache_dir is None:
        return _typeset(latex, display)
    key = hashlib.sha256(f"{_VERSION}\0{_ziamath_version()}\0{display}\0{latex}".encode()).hexdigest()
    path = cache_dir / "math" / f"{key}.svg"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    svg = _typeset(latex, display)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(svg, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # a cache that cannot be written only costs time
    return svg


@lru_cache(maxsize=1)
def _ziamath_version() -> str:
    from importlib.metadata import version

    return version("ziamath")


@lru_cache(maxsize=2048)
def _typeset(latex: str, display: bool) -> str:
    import ziafont
    import ziamath

    ziafont.config.svg2 = False
    ziafont.config.precision = ziamath.config.precision = 1
    try:
        math = ziamath.Math.fromlatex(latex, size=BLOCK_SIZE if display else INLINE_SIZE,
                                      color="currentColor", inline=not display)
        svg = math.svg()
    except Exception as exc:  # ziamath raises many kinds for bad LaTeX; report them alike
        raise MathError(str(exc) or type(exc).__name__) from None
    return _compact(svg, display)


def _compact(svg: str, display: bool) -> str:
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    svg = _PATH_DATA.sub(lambda m: 'd="' + _tight(m.group(1)) + '"', svg)
    if display:
        style = "display:block;margin:0 auto;max-width:100%"
    else:  # sit the formula's baseline (y = 0 in its viewBox) on the text's baseline
        _, min_y, _, height = (float(v) for v in _VIEWBOX.search(svg).group(1).split())
        style = f"display:inline-block;vertical-align:-{_round(str(max(min_y + height, 0.0)))}px;max-width:100%"
    # max-width:100% shrinks a formula wider than the column, so the fixed width is safe: tell WeChat's checker
    return svg.replace("<svg ", f'<svg data-ignore-width="" style="{style}" ', 1)


def _tight(path_data: str) -> str:
    path_data = _COMMAND_SPACE.sub(r"\1", path_data)
    return path_data.replace(" -", "-")


def _round(number: str) -> str:
    value = round(float(number), 1)
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
