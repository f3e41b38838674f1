"""The report in three formats from one release: the self-contained HTML is the source; the
PDF is Chromium's print of that very page and the Word file is built from its sections,
tables and figures. Neither recomputes a number, so all three publish the same release.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from .._internal.text import unknown
from ..errors import InvalidParameterError, OutcomesError

#: every format, in the order they are written (the PDF and Word file are made from the HTML)
FORMATS = ("html", "pdf", "docx")


class ExportError(OutcomesError):
    """A format could not be written (no Chromium for the PDF, a broken HTML report)."""


def parse_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """The requested formats, checked, without repeats, in :data:`FORMATS` order.

    ``"html,pdf,docx"`` (as the command line takes it) or a list. The HTML is always among
    them: the PDF and the Word file are made from it.

    Example:
        >>> parse_formats("docx, pdf")
        ('html', 'pdf', 'docx')
        >>> parse_formats(["html"])
        ('html',)
        >>> parse_formats("pfd")
        Traceback (most recent call last):
        ...
        outcomes.errors.InvalidParameterError: unknown report format 'pfd'; did you mean 'pdf'?
    """
    if isinstance(formats, str):
        asked = [f.strip().lower() for f in formats.split(",")]
    elif isinstance(formats, Iterable):
        asked = [str(f).strip().lower() for f in formats]
    else:
        raise InvalidParameterError(
            f"formats must be a comma-separated string or a list of {', '.join(FORMATS)}, "
            f"not {type(formats).__name__}"
        )
    asked = [f for f in asked if f]
    if not asked:
        raise InvalidParameterError(f"formats is empty; choose from {', '.join(FORMATS)}")
    for f in asked:
        if f not in FORMATS:
            raise InvalidParameterError(unknown("report format", f, FORMATS))
    return tuple(f for f in FORMATS if f == "html" or f in asked)


# ---------------------------------------------------------------------------- PDF
def chromium_path() -> str | None:
    """Debian's ``chromium`` (or ``chromium-browser``) on PATH, else None (playwright's own)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def write_pdf(html_path: str | Path, pdf_path: str | Path) -> Path:
    """Print the HTML report to PDF with headless Chromium (A4, the print stylesheet, page
    numbers in the footer): the same page a reader prints from the browser.

    Example:
        >>> write_pdf("build/report/12_month_evaluation.html", "build/report.pdf")  # doctest: +SKIP
        PosixPath('build/report.pdf')
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # an optional dependency: say how to get it
        raise ExportError(
            "the PDF is printed with headless Chromium through playwright, which is not "
            "installed: pip install 'outcomes[pdf]' and install chromium (or leave pdf out "
            "of the formats)"
        ) from e
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    exe = chromium_path()
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]  # fmt: skip
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=args)
            try:
                page = browser.new_page()
                page.goto(html_path.as_uri())
                page.emulate_media(media="print")
                page.pdf(
                    path=str(pdf_path),
                    format="A4",
                    margin={"top": "18mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
                    print_background=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=(
                        '<div style="font-size:8px;width:100%;text-align:center;color:#555">'
                        'page <span class="pageNumber"></span> of <span class="totalPages">'
                        "</span></div>"
                    ),
                )
            finally:
                browser.close()
    except Exception as e:
        raise ExportError(
            f"the PDF could not be printed with headless Chromium ({type(e).__name__}: {e}); "
            "install Debian's chromium package, or leave pdf out of the formats"
        ) from e
    return pdf_path


def pdf_page_count(pdf: bytes) -> int:
    """Pages of a PDF, from its page tree (``/Type /Pages`` ... ``/Count n``), without a PDF
    library: the root page tree's count is the largest ``/Count`` of a ``/Pages`` node.

    Object streams (compressed page trees) are not read; a file whose tree is compressed
    gives 0, so callers that need certainty use pypdf.

    Example:
        >>> pdf_page_count(b"%PDF-1.4 1 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>")
        2
        >>> pdf_page_count(b"not a pdf")
        Traceback (most recent call last):
        ...
        outcomes.report.export.ExportError: not a PDF file (it does not start with %PDF-)
    """
    if not pdf.startswith(b"%PDF-"):
        raise ExportError("not a PDF file (it does not start with %PDF-)")
    counts = [
        int(m.group(1))
        for node in re.finditer(rb"<<(?:(?!>>).)*?/Type\s*/Pages\b(?:(?!>>).)*>>", pdf, re.S)
        for m in [re.search(rb"/Count\s+(\d+)", node.group(0))]
        if m
    ]
    return max(counts, default=0)


# ---------------------------------------------------------------------------- Word
def write_docx(html_text: str, docx_path: str | Path) -> Path:
    """A Word document with the HTML report's title, sections, text, notes, tables (with
    their captions) and figures (the same PNGs), in the same order.

    Example:
        >>> html = ('<div class="oc-title"><h1>Demo</h1><p>12 months.</p></div>'
        ...         '<section class="oc-section" id="reach"><h2>Reach</h2><p>Text.</p>'
        ...         '<table class="oc-table"><caption>Referrals</caption><thead><tr><th>Month'
        ...         '</th><th>Referrals</th></tr></thead><tbody><tr><td>May</td><td>12</td>'
        ...         '</tr></tbody></table></section>')
        >>> import docx, tempfile, os
        >>> path = write_docx(html, os.path.join(tempfile.mkdtemp(), "r.docx"))
        >>> d = docx.Document(path)
        >>> [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
        ['Reach']
        >>> d.tables[0].cell(1, 1).text
        '12'
    """
    try:
        import docx
        from docx.shared import Cm, Pt
    except ImportError as e:
        raise ExportError("the Word file needs python-docx: pip install python-docx") from e
    from lxml import html as lxml_html  # a dependency of python-docx

    root = lxml_html.fromstring(html_text)
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10)
    sec = document.sections[0]
    sec.left_margin = sec.right_margin = Cm(2)
    width = sec.page_width - sec.left_margin - sec.right_margin

    title = root.find_class("oc-title")
    if title:
        h1 = title[0].find(".//h1")
        document.add_heading(_text(h1) if h1 is not None else "Evaluation report", level=0)
        for p in title[0].iter("p"):
            document.add_paragraph(_text(p))
    for section in root.xpath('//section[contains(concat(" ", @class, " "), " oc-section ")]'):
        for el in section:
            _add_block(document, el, width)
    document.core_properties.title = _text(title[0].find(".//h1")) if title else "Report"
    document.save(str(docx_path))
    return Path(docx_path)


def _text(el) -> str:
    return " ".join(el.text_content().split()) if el is not None else ""


def _add_block(document, el, width) -> None:
    tag = el.tag
    cls = el.get("class", "")
    if tag == "h2":
        document.add_heading(_text(el), level=1)
    elif tag in ("h3", "h4"):
        document.add_heading(_text(el), level=2 if tag == "h3" else 3)
    elif tag == "p":
        _add_runs(document.add_paragraph(), el)
    elif tag in ("ul", "ol"):
        style = "List Bullet" if tag == "ul" else "List Number"
        for li in el.iter("li"):
            _add_runs(document.add_paragraph(style=style), li)
    elif tag == "div" and ("oc-note" in cls or "oc-warning" in cls):
        p = document.add_paragraph(style="Intense Quote")
        _add_runs(p, el, bold="oc-warning" in cls)
    elif tag == "table":
        _add_table(document, el)
    elif tag == "figure":
        img = el.find(".//img")
        src = img.get("src", "") if img is not None else ""
        if src.startswith("data:image/png;base64,"):
            png = base64.b64decode(src.split(",", 1)[1])
            document.add_picture(io.BytesIO(png), width=min(width, _png_width(png, width)))
        cap = el.find(".//figcaption")
        if cap is not None:
            document.add_paragraph(_text(cap), style="Caption")
    elif tag == "div" or tag == "details":
        for child in el:
            _add_block(document, child, width)
    elif _text(el):
        document.add_paragraph(_text(el))


def _png_width(png: bytes, page_width):
    """The image's width at 100 dpi (as matplotlib saved it), in EMU, at most the page's."""
    from docx.shared import Inches

    w = int.from_bytes(png[16:20], "big") if png[:8] == b"\x89PNG\r\n\x1a\n" else 0
    return Inches(w / 100) if w else page_width


def _add_runs(paragraph, el, bold: bool = False) -> None:
    """Text with <strong>/<em>/<code> kept as bold, italic and a fixed-width font."""

    def walk(node, b: bool, i: bool, code: bool) -> None:
        if node.text:
            run = paragraph.add_run(node.text)
            run.bold, run.italic = b or None, i or None
            if code:
                run.font.name = "Consolas"
        for child in node:
            walk(
                child,
                b or child.tag in ("strong", "b"),
                i or child.tag in ("em", "i"),
                code or child.tag == "code",
            )
            if child.tail:
                run = paragraph.add_run(child.tail)
                run.bold, run.italic = b or None, i or None

    walk(el, bold, False, False)


def _add_table(document, table) -> None:
    cap = table.find("caption")
    if cap is not None and _text(cap):
        document.add_paragraph(_text(cap), style="Caption")
    head = [_text(th) for th in table.xpath("./thead/tr/th")]
    rows = [[_text(td) for td in tr.xpath("./td|./th")] for tr in table.xpath("./tbody/tr")]
    ncols = max([len(head)] + [len(r) for r in rows]) or 1
    t = document.add_table(rows=1 if head else 0, cols=ncols)
    t.style = "Table Grid"
    if head:
        for k, h in enumerate(head):
            cell = t.rows[0].cells[k]
            cell.text = h
            for run in cell.paragraphs[0].runs:
                run.bold = True
    for r in rows:
        cells = t.add_row().cells
        for k, v in enumerate(r):
            cells[k].text = v
    document.add_paragraph()
