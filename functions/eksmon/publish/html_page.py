"""The HTML page itself, apart from what it shows: the document, its style, sections and SVG shapes.

``publish/html.py`` decides what the fleet report says; this module only knows how to draw it.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
COLOUR = {"critical": "#c62828", "warning": "#ef6c00", "info": "#1565c0", "ok": "#2e7d32"}
ROW = 30  # px per row in the pictures
LABEL = 260  # px for the row labels
WIDTH = 1000


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
body {{ font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1b1b1b; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 18px; margin: 28px 0 8px; }}
.muted {{ color: #666; }} .chips span {{ display: inline-block; padding: 2px 10px; margin-right: 6px;
  border-radius: 10px; color: #fff; font-weight: 600; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: left; padding: 6px 8px;
  border-bottom: 1px solid #e0e0e0; vertical-align: top; }}
th {{ background: #f5f5f5; }} code {{ font-size: 12px; }}
.sev {{ font-weight: 700; }} .critical {{ color: {COLOUR["critical"]}; }}
.warning {{ color: {COLOUR["warning"]}; }} .info {{ color: {COLOUR["info"]}; }}
svg text {{ font: 12px system-ui, sans-serif; }} .nodata {{ color: #888; font-style: italic; }}
details summary {{ cursor: pointer; }}
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


def svg(rows: int, content: str, label: str, extra_height: int = 30) -> str:
    height = rows * ROW + extra_height
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'width="100%" viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet">'
        f"{content}</svg>"
    )


def bar(x1: float, x2: float, y: int, colour: str, title: str, opacity: float = 1.0) -> str:
    width = max(x2 - x1, 1.0)
    return (
        f'<rect x="{x1:.1f}" y="{y + 6}" width="{width:.1f}" height="18" rx="3" fill="{colour}" '
        f'fill-opacity="{opacity}"><title>{escape(title)}</title></rect>'
    )
