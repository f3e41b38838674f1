"""Regenerate the report images in docs/images/ from the demo report.

    python scripts/report_images.py            # builds the demo report (about a minute)
    python scripts/report_images.py BUILT_DIR  # or uses a report built with --format html,pdf

Screenshots of the HTML at 1024 and 1400 px wide (headless Chromium via playwright) and the
first two PDF pages (pdftoppm, from Debian's poppler-utils). Images are reduced to 64
colours to keep the repository small.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def _small(path: Path) -> None:
    img = Image.open(path).convert("RGB")
    img.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main(built: Path | None = None) -> None:
    import outcomes as oc
    from outcomes.report.export import chromium_path

    if built is None:
        built = Path(tempfile.mkdtemp()) / "report"
        oc.build_report(ROOT / "examples" / "demo_evaluation.yaml", built, formats="html,pdf")
    html = built / "12_month_evaluation.html"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        for width, anchor in ((1024, ""), (1400, "#outcomes")):
            page = browser.new_page(viewport={"width": width, "height": 760})
            page.goto(html.as_uri() + anchor)
            out = IMAGES / f"report_{width}px.png"
            page.screenshot(path=str(out))
            _small(out)
        browser.close()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-png", "-r", "45", "-f", "1", "-l", "2",
                        str(built / "12_month_evaluation.pdf"), f"{tmp}/page"], check=True)  # fmt: skip
        for k, png in enumerate(sorted(Path(tmp).glob("page*.png")), start=1):
            out = IMAGES / f"report_pdf_page{k}.png"
            shutil.copy(png, out)
            _small(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
