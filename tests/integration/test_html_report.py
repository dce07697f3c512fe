"""`eksmon scan --format html` writes one page a person can open: it renders in headless Chromium
without a console error or a network fetch, and shows the findings and the three pictures."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from eksmon.cli import main
from eksmon.sim.fleet import DEMO_FLEET, DEMO_REGIONS
from eksmon.sim.server import Simulator

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium's own chatter on a machine without D-Bus or a GPU is not the page's
_NOISE = re.compile(r"dbus|gpu|viz_main|sandbox|fontconfig|ALSA|udev|Fontconfig|crashpad|GCM", re.I)
_PAGE_ERROR = re.compile(r"CONSOLE|Uncaught|Refused to|net::ERR_|Failed to load", re.I)


def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: run `make browser` (apt-get install chromium)")
    profile = tmp_path / "profile"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def page_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if _PAGE_ERROR.search(line) and not _NOISE.search(line)]


def png_has_content(png: bytes) -> bool:
    """Decode the PNG's pixel rows (no imaging library needed) and look for more than one colour."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return len(set(raw)) > 32  # a blank page decodes to a handful of repeated (filtered) bytes


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, simulator: Simulator) -> Path:
    simulator.reset()
    simulator.seed_demo()
    out, err = io.StringIO(), io.StringIO()
    with simulator.patched_environ("us-east-1"):
        code = main(
            [
                "scan",
                *(a for r in DEMO_REGIONS for a in ("--region", r)),
                "--now",
                "2026-11-26T12:00:00Z",
                "--format",
                "html",
            ],
            out=out,
            err=err,
        )
    assert code == 0, err.getvalue()
    page = tmp_path_factory.mktemp("report") / "eksmon-report.html"
    page.write_text(out.getvalue(), encoding="utf-8")
    return page


def test_the_report_is_self_contained(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert not re.search(r"<(script|link|img|iframe)\b", text)
    assert not re.search(r"""(src|href)=["']https?://""", re.sub(r"<a [^>]*>", "", text))


def test_etcd_bars_use_each_clusters_limit_and_capacity_is_drawn_per_tier(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    etcd = text[text.index('id="etcd-size-against-its-limit"') : text.index('id="control-plane-capacity"')]
    assert "8.99 GiB of 16 GiB (56 %)" in etcd  # ai-inference, tier-xl: not 112 % of 8 GiB
    assert "7.68 GiB of 8 GiB (96 %)" in etcd  # payments-prod, standard
    capacity = text[text.index('id="control-plane-capacity"') : text.index('id="quota-utilisation"')]
    assert "render-farm (us-east-1) · tier-2xl" in capacity
    assert "tier-xl would fit, saving $1,278/month" in capacity
    assert "1,450 seats (standard: no guarantee" in capacity  # payments-prod
    assert "analytics-legacy (eu-west-1) · standard" in capacity and "no data" in capacity


def test_it_renders_in_chromium_with_the_findings_and_pictures(report: Path, tmp_path: Path) -> None:
    done = chromium(report, tmp_path, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    assert page_errors(done.stderr) == []
    dom = done.stdout
    assert dom.count('class="cluster-timeline"') == len(DEMO_FLEET)
    for section in (
        "clusters",
        "support-timeline",
        "etcd-size-against-its-limit",
        "control-plane-capacity",
        "quota-utilisation",
        "findings",
    ):
        assert f'id="{section}"' in dom
    assert dom.count('<div class="finding f-') > 20
    assert "payments-prod (us-east-1) 1.34" in dom and "6 days of standard support left" in dom
    assert "data-platform (us-east-1) 1.32" in dom and "extended support: 117 days left" in dom
    assert "extended support ended: forced upgrade due" in dom  # analytics-legacy, 1.31
    assert "7.68 GiB of 8 GiB (96 %)" in dom  # payments-prod's etcd, near the 8 GiB quota
    assert re.search(r"account 123456789012 \(us-east-1\): ec2 EC2-VPC.*?Elastic IPs.*?97 %", dom, re.S)
    # a quota row names its cluster and node group
    assert re.search(r"payments-prod node group\s*(<[^>]+>\s*)*payments-workers", dom), "node group row"


def test_the_screenshot_is_not_blank(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = chromium(report, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    assert done.returncode == 0, done.stderr[-2000:]
    assert page_errors(done.stderr) == []
    assert png_has_content(shot.read_bytes())


def test_the_blank_check_can_fail(tmp_path: Path) -> None:
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><title>blank</title>", encoding="utf-8")
    shot = tmp_path / "blank.png"
    chromium(blank, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    assert not png_has_content(shot.read_bytes())


def test_the_checker_catches_a_page_that_fetches(tmp_path: Path) -> None:
    """The console check can fail: a page the CSP stops from fetching an image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '<img src="https://example.com/x.png"><script>console.error("boom")</script>',
        encoding="utf-8",
    )
    done = chromium(bad, tmp_path, "--dump-dom")
    assert page_errors(done.stderr) != []


# Measures the page as drawn; the report itself has no script (its CSP forbids one), so a copy without
# the CSP carries this one. The copy is drawn in a frame of the width under test (headless Chromium's
# window is at least 500 px wide), and the probe writes what it found into the outer page, which
# --dump-dom prints.
_MEASURE = """<script>
const root = document.documentElement;
const found = {svgOverflow: [], boxOverflow: [], page: [root.scrollWidth, root.clientWidth], contrast: []};
for (const t of document.querySelectorAll("svg text")) {
  const s = t.ownerSVGElement.getBoundingClientRect(), b = t.getBoundingClientRect();
  if (b.right > s.right + 0.5 || b.left < s.left - 0.5 || b.bottom > s.bottom + 0.5 || b.top < s.top - 0.5)
    found.svgOverflow.push(t.textContent);
}
for (const el of document.querySelectorAll("p, td, th, h1, h2, h3, footer, li")) {
  if (el.closest(".chart, .scroll")) continue;
  if (el.scrollWidth > el.clientWidth + 1) found.boxOverflow.push(el.textContent.slice(0, 80));
}
function lum(rgb) {
  const [r, g, b] = rgb.match(/\\d+/g).slice(0, 3).map(v => { v = v / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function ratio(a, b) { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
for (const el of document.querySelectorAll(".chips span")) {
  const st = getComputedStyle(el);
  found.contrast.push([el.textContent, ratio(st.color, st.backgroundColor)]);
}
for (const el of document.querySelectorAll(".sev, td.n")) {
  found.contrast.push([el.className + " " + el.textContent, ratio(getComputedStyle(el).color, "rgb(255,255,255)")]);
}
const pre = parent.document.createElement("pre"); pre.id = "measured"; pre.textContent = JSON.stringify(found);
parent.document.body.appendChild(pre);
</script>"""


def measure(page: Path, tmp_path: Path, width: int) -> dict[str, list[object]]:
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8"))
    import html

    framed = html.escape(text.replace("</body>", _MEASURE + "</body>"), quote=True)
    probe = tmp_path / f"probe-{width}.html"
    probe.write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><iframe width="{width}" height="3000" '
        f'style="border:0" srcdoc="{framed}"></iframe></body></html>',
        encoding="utf-8",
    )
    done = chromium(probe, tmp_path, "--dump-dom", "--window-size=1500,3000")
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert match, "the probe did not run"
    import json

    return json.loads(html.unescape(match.group(1)))


@pytest.mark.parametrize("width", [420, 1024, 1400])
def test_no_text_runs_past_its_chart_or_box_and_the_page_fits(
    report: Path, tmp_path: Path, width: int
) -> None:
    found = measure(report, tmp_path, width)
    assert found["svgOverflow"] == [], f"chart text clipped at {width} px: {found['svgOverflow'][:5]}"
    assert found["boxOverflow"] == [], f"text overflowing its box at {width} px: {found['boxOverflow'][:5]}"
    scroll, inner = found["page"]
    assert inner <= width and scroll <= inner, f"the page is {scroll} px wide in a {inner} px window"


def test_severity_colours_pass_wcag_aa(report: Path, tmp_path: Path) -> None:
    found = measure(report, tmp_path, 1024)
    assert found["contrast"], "no severity text found"
    low = [(what, round(r, 2)) for what, r in found["contrast"] if r < 4.5]
    assert low == [], f"below 4.5:1: {low[:5]}"


def test_the_overflow_probe_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><div style="width:300px"><svg width="100" height="30" viewBox="0 0 100 30">'
        '<text x="0" y="20">a label much longer than its chart</text></svg></div>'
        '<p style="width:900px">wide</p><span class="sev" style="color:#ef6c00">warning</span></body></html>',
        encoding="utf-8",
    )
    found = measure(bad, tmp_path, 420)
    assert found["svgOverflow"] and found["page"][0] > found["page"][1]
    assert min(r for _, r in found["contrast"]) < 4.5  # the old warning orange, 3.1:1
