"""The HTML page itself, apart from what it shows: the document, its style, sections and SVG shapes.

``publish/html.py`` decides what the fleet report says; this module only knows how to draw it.
"""

from __future__ import annotations

import html
import logging
import textwrap
from collections.abc import Callable

log = logging.getLogger(__name__)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
# Each at least 4.5:1 against white (WCAG AA for normal text), as text and as a chip's background under
# white text: tests/unit/test_html_page.py computes the ratios.
COLOUR = {"critical": "#c62828", "warning": "#a84300", "info": "#1565c0", "ok": "#2e7d32"}
ZERO = "#6b6b6b"  # a count of nothing: grey, not a severity's colour
ROW = 30  # px per row in the pictures
LINE = 15  # px per extra line of a row's text
LABEL = 260  # px for the row labels (the least; a chart widens it for longer labels)
WIDTH = 1000
PLOT = 420  # px of a chart's plot area
# px per character of the charts' 12 px text, generous (wide capitals, digits), so that the room a chart
# reserves for its labels always holds them: nothing is clipped (tests/integration/test_html_report.py)
CHAR = 7.6


def level_colour(value: float, warning: float, critical: float) -> str:
    """The colour of a bar at ``value``, by the levels of the check that judges it."""
    return (
        COLOUR["critical"] if value >= critical else COLOUR["warning"] if value >= warning else COLOUR["ok"]
    )


# -- page ------------------------------------------------------------------------------------------------
def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def page(body: str, title: str) -> str:
    """The whole document: no script, and a Content-Security-Policy that forbids every fetch."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1b1b1b;
  max-width: 1100px; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 18px; margin: 28px 0 8px; }}
h3 {{ font-size: 16px; margin: 20px 0 6px; }}
.muted {{ color: #595959; }} .chips span {{ display: inline-block; padding: 2px 10px; margin: 0 6px 4px 0;
  border-radius: 10px; color: #fff; font-weight: 600; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: left; padding: 6px 8px;
  border-bottom: 1px solid #e0e0e0; vertical-align: top; }}
th {{ background: #f5f5f5; }} code {{ font-size: 12px; overflow-wrap: anywhere; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }} td.zero {{ color: {ZERO}; }}
.sev {{ font-weight: 700; }} .critical {{ color: {COLOUR["critical"]}; }}
.warning {{ color: {COLOUR["warning"]}; }} .info {{ color: {COLOUR["info"]}; }}
.finding {{ border-left: 4px solid #bdbdbd; padding: 4px 0 4px 12px; margin: 10px 0; }}
.finding.f-critical {{ border-color: {COLOUR["critical"]}; }} .finding.f-warning {{ border-color: {COLOUR["warning"]}; }}
.finding.f-info {{ border-color: {COLOUR["info"]}; }}
.finding p {{ margin: 4px 0; overflow-wrap: anywhere; }} .finding .title {{ font-weight: 600; }}
.chart {{ overflow-x: auto; max-width: 100%; }} .chart svg {{ display: block; }}
svg text {{ font: 12px system-ui, sans-serif; }} .nodata {{ color: #595959; font-style: italic; }}
.scroll {{ overflow-x: auto; }}
footer {{ margin-top: 32px; padding-top: 8px; border-top: 1px solid #e0e0e0; color: #595959; font-size: 13px;
  overflow-wrap: anywhere; }}
@media (max-width: 600px) {{ body {{ margin: 12px; }} th, td {{ padding: 4px 5px; }} }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def section(title: str, build: Callable[[], str]) -> str:
    anchor = title.lower().replace(" ", "-")
    try:
        inner = build()
    except Exception as exc:  # noqa: BLE001 - one broken picture must not lose the whole report
        log.warning("html report: section %r failed: %s", title, type(exc).__name__)
        inner = f'<p class="nodata">Could not draw this section ({escape(type(exc).__name__)}).</p>'
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>\n{inner}\n</section>'


def svg(
    rows: int, content: str, label: str, extra_height: int = 30, width: float = WIDTH, row: int = ROW
) -> str:
    """A chart at its own size (never shrunk to unreadable), in a box that scrolls sideways when the
    window is narrower."""
    height = rows * row + extra_height
    return (
        f'<div class="chart"><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'width="{width:.0f}" height="{height}" viewBox="0 0 {width:.0f} {height}">{content}</svg></div>'
    )


def text_width(text: str) -> float:
    return len(text) * CHAR


def lines_text(x: float, y: float, lines: list[str], attrs: str = "") -> str:
    """Lines of text, one under the other, as one SVG text element."""
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else LINE}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text x="{x:.1f}" y="{y}"{attrs}>{spans}</text>'


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken between words (a word longer stays whole)."""
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def bar(x1: float, x2: float, y: int, colour: str, title: str, opacity: float = 1.0) -> str:
    width = max(x2 - x1, 1.0)
    return (
        f'<rect x="{x1:.1f}" y="{y + 6}" width="{width:.1f}" height="18" rx="3" fill="{colour}" '
        f'fill-opacity="{opacity}"><title>{escape(title)}</title></rect>'
    )
