"""Screenshots of what eksmon shows a person, for the README and docs/img/ (needs Chromium: `make browser`).

    python tools/screenshots.py                      # docs/img/report.png: the demo's HTML report at 1024 px
    python tools/screenshots.py --all                # and report-420.png, email.png, slack.png
    python tools/screenshots.py --text FILE OUT.png  # any text file as a picture (an e-mail, a Slack message)

The demo runs in-process (the simulator, no AWS); Chromium draws the page headless.
"""

from __future__ import annotations

import argparse
import html
import io
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from eksmon.cli import main as eksmon

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("screenshots: chromium is not installed (make browser)")
    return found


def shoot(page: Path, out: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(  # noqa: S603 - a fixed argv, no shell
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={out.resolve()}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {out}")


def text_page(text: str, title: str) -> str:
    return (
        f"<!DOCTYPE html><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{margin:16px;font:13px/1.45 ui-monospace,monospace;color:#1b1b1b}"
        "pre{white-space:pre-wrap;max-width:100ch;margin:0}</style>"
        f"<pre>{html.escape(text)}</pre>"
    )


def shoot_text(text: str, out: Path, title: str, width: int = 900) -> None:
    lines = sum(max(1, len(line) // 100 + 1) for line in text.splitlines())
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "text.html"
        page.write_text(text_page(text, title), encoding="utf-8")
        shoot(page, out, width, min(40 + lines * 19, 2400))


def demo_outputs(scratch: Path) -> tuple[Path, str]:
    """The demo's HTML report and its standard output with every message shown."""
    report = scratch / "report.html"
    out = io.StringIO()
    code = eksmon(["demo", "--show-alerts", "--html", str(report)], out=out, err=sys.stderr)
    if code != 0:
        raise SystemExit(f"screenshots: the demo failed ({code})")
    return report, out.getvalue()


def message(stdout: str, cluster: str) -> tuple[str, str]:
    """(e-mail, Slack) text of the message about ``cluster`` (``name (region)``) with the most new findings:
    the fullest picture of one, whatever the demo fleet's checks add."""
    subject = re.compile(r"^Subject: .*" + re.escape(cluster) + r": (\d+) new", re.M)
    found: list[tuple[int, str]] = []
    for block in re.split(r"^=+$", stdout, flags=re.M):
        match = subject.search(block)
        if match and "-- Slack " in block:
            found.append((int(match.group(1)), block))
    if not found:
        raise SystemExit(f"screenshots: no message about {cluster} in the demo")
    email, _, slack = re.split(r"^(-- Slack -+)$", max(found, key=lambda f: f[0])[1], maxsplit=1, flags=re.M)
    return email.strip(), slack.strip()


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument(
        "--all", action="store_true", help="also the 420 px report, an e-mail and a Slack message"
    )
    args.add_argument("--text", nargs=2, metavar=("FILE", "OUT"), help="draw a text file as a PNG")
    opts = args.parse_args(argv)
    IMG.mkdir(parents=True, exist_ok=True)
    if opts.text:
        source, target = Path(opts.text[0]), Path(opts.text[1])
        shoot_text(source.read_text(encoding="utf-8"), target, source.name)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        report, stdout = demo_outputs(Path(scratch))
        shoot(report, IMG / "report.png", 1024, 1400)
        if opts.all:
            shoot(report, IMG / "report-420.png", 420, 1800)
            email, slack = message(stdout, "ml-training (eu-west-1)")
            shoot_text(email, IMG / "email.png", "e-mail")
            shoot_text(slack, IMG / "slack.png", "Slack")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
