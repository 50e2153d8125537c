"""Math: LaTeX → inline SVG in pure Python (ziamath), fit for WeChat.

ziamath is told to emit plain <path>s (no <use>/<symbol>/id, which WeChat drops), filled with
`currentColor` so formulas follow the text colour in dark mode. Coordinates are rounded to one
decimal (ziamath's own precision setting): a tenth of a CSS pixel is invisible and it halves the SVG.
"""

from __future__ import annotations

import re
from functools import lru_cache

INLINE_SIZE = 16.0  # px, close to body text
BLOCK_SIZE = 17.0
_VIEWBOX = re.compile(r'viewBox="([^"]*)"')
_PATH_DATA = re.compile(r'd="([^"]*)"')
_COMMAND_SPACE = re.compile(r"\s*([MLQCZHVTSA])\s*", re.IGNORECASE)


class MathError(Exception):
    pass


@lru_cache(maxsize=2048)
def render_math(latex: str, display: bool) -> str:
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
