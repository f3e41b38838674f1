"""Report sections as HTML: text, published tables and embedded figures.

A :class:`Section` is what each report cell displays. Figures are embedded as base64 PNG so
the HTML file stands alone; tables are written as CSV beside the report as they are added.
"""

from __future__ import annotations

import base64
import html
import re
import sys
from dataclasses import dataclass, field

import pandas as pd

from .._internal import drawing
from .._internal.drawing import Pending
from .labels import readable_frame
from .release import ReleasedTable, save_csv

__all__ = ["Figure", "Note", "Section", "Table", "Text", "save_csv", "show_html", "title_block"]

#: the display outputs of the notebook cell being run by :func:`outcomes.report.execute.
#: execute_in_process` without IPython (HTML shown is appended here), or None: IPython's display
_recording: list[str] | None = None


def show_html(markup: str) -> None:
    """Show HTML in the report notebook: recorded for the page when the build runs the notebook
    in its own process, otherwise IPython's ``display`` (Jupyter)."""
    if _recording is not None:
        _recording.append(markup)
        return
    from IPython.display import HTML, display

    display(HTML(markup))


def _md_inline(text: str) -> str:
    """Tiny Markdown subset for report prose: **bold**, *italic*, `code`; escapes the rest."""
    t = html.escape(text)
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    t = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", t)
    t = re.sub(r"`(.+?)`", r"<code>\1</code>", t)
    return t


@dataclass
class Block:
    def to_html(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Text(Block):
    text: str

    def to_html(self) -> str:
        paras = [p.strip() for p in self.text.strip().split("\n\n") if p.strip()]
        out = []
        for p in paras:
            lines = p.splitlines()
            if all(line.lstrip().startswith("- ") for line in lines):
                items = "".join(f"<li>{_md_inline(line.lstrip()[2:])}</li>" for line in lines)
                out.append(f"<ul>{items}</ul>")
            else:
                out.append(f"<p>{_md_inline(' '.join(lines))}</p>")
        return "\n".join(out)


@dataclass
class Note(Block):
    text: str
    kind: str = "note"  # note | warning

    def to_html(self) -> str:
        return f'<div class="oc-{self.kind}">{_md_inline(self.text)}</div>'


def _cell_class(text: str, numeric: bool) -> str:
    """Numbers right-aligned; a value with an unbroken run of more than 24 characters (a
    hash, a file path) may wrap anywhere, so it cannot widen its table past the page."""
    if numeric:
        return ' class="num"'
    return ' class="long"' if any(len(w) > 24 for w in text.split()) else ""


@dataclass
class Table(Block):
    data: pd.DataFrame
    caption: str = ""
    name: str = ""

    def to_html(self) -> str:
        # Labels, not column names (one map in .labels); data-col keeps the column name.
        heads, rows, numeric = readable_frame(self.data)
        head = "".join(
            f'<th data-col="{html.escape(str(c))}">{html.escape(h)}</th>'
            for c, h in zip(self.data.columns, heads, strict=True)
        )
        body = []
        for cells, nums in zip(rows, numeric, strict=True):
            tds = [
                f"<td{_cell_class(text, k in nums)}>{html.escape(text)}</td>"
                for k, text in enumerate(cells)
            ]
            body.append("<tr>" + "".join(tds) + "</tr>")
        cap = f"<caption>{_md_inline(self.caption)}</caption>" if self.caption else ""
        wide = " oc-wide" if len(heads) > 7 else ""
        return (
            f'<div class="oc-table-wrap"><table class="oc-table{wide}" '
            f'data-name="{html.escape(self.name)}">{cap}'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        )


@dataclass
class Figure(Block):
    #: the PNG, or (while a report is built) a figure still being drawn in the other process
    png: bytes | Pending
    caption: str = ""

    @classmethod
    def from_matplotlib(cls, fig: object, caption: str = "") -> Figure:
        if hasattr(fig, "figure") and not hasattr(fig, "savefig"):
            fig = fig.figure  # an Axes
        png = drawing.draw(fig)
        # only a figure made through pyplot is held open by it (the report's own figures are
        # plain Figures): pyplot is not imported just to close nothing
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close(fig)
        return cls(png, caption)

    def finish(self) -> None:
        """Wait for the PNG if it is being drawn elsewhere (any drawing error is raised here)."""
        if isinstance(self.png, Pending):
            self.png = self.png.result()

    def to_html(self) -> str:
        self.finish()
        data = base64.b64encode(self.png).decode("ascii")
        cap = f"<figcaption>{_md_inline(self.caption)}</figcaption>" if self.caption else ""
        alt = html.escape(self.caption or "figure")
        return f'<figure><img src="data:image/png;base64,{data}" alt="{alt}"/>{cap}</figure>'


def figure_gaps(fig: object, caption: str) -> list[str]:
    """What a figure lacks for a reader: a title, axis labels on every plot, a caption.

    Example:
        >>> from matplotlib.figure import Figure as MplFigure
        >>> f = MplFigure(); ax = f.add_subplot(); _ = ax.set_xlabel("Month")
        >>> figure_gaps(f, "")
        ['a title', 'a y-axis label', 'a caption']
    """
    axes = [ax for ax in getattr(fig, "axes", []) if ax.get_visible()]
    suptitle = getattr(fig, "_suptitle", None)
    gaps = []
    if not (suptitle is not None and suptitle.get_text()) and not any(a.get_title() for a in axes):
        gaps.append("a title")
    if any(not a.get_xlabel() for a in axes):
        gaps.append("an x-axis label")
    if any(not a.get_ylabel() for a in axes):
        gaps.append("a y-axis label")
    if not caption.strip():
        gaps.append("a caption")
    return gaps


@dataclass
class Section:
    """One section of the report: a title, then blocks in order."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    anchor: str = ""
    #: a section this kind of programme does not have (school sections where the sites are
    #: not schools): shown as nothing at all
    omitted: bool = False

    def text(self, md: str) -> Section:
        self.blocks.append(Text(md))
        return self

    def note(self, md: str, kind: str = "note") -> Section:
        self.blocks.append(Note(md, kind))
        return self

    def table(self, released: ReleasedTable, caption: str = "") -> Section:
        """Show a released table (a plain DataFrame is refused: it has not been controlled)."""
        if not isinstance(released, ReleasedTable):
            raise TypeError(
                f"Section.table takes a ReleasedTable from the report's Release, not "
                f"{type(released).__name__}: only released numbers can be published"
            )
        self.blocks.append(Table(released.frame, caption, released.name))
        return self

    def figure(self, fig: object, caption: str = "") -> Section:
        """Show a figure drawn by :mod:`outcomes.report.figures` from released tables only."""
        if not getattr(fig, "_from_release", False):
            raise TypeError(
                "Section.figure takes a figure drawn by outcomes.report.figures from released "
                "tables; a figure drawn from raw results could show unreleased numbers"
            )
        missing = figure_gaps(fig, caption)
        if missing:
            raise ValueError(f"a report figure needs {', '.join(missing)}: a reader sees no code")
        self.blocks.append(Figure.from_matplotlib(fig, caption))
        return self

    def finish(self) -> Section:
        """Wait for its figures being drawn in the other process (their errors raised here)."""
        for block in self.blocks:
            if isinstance(block, Figure):
                block.finish()
        return self

    def to_html(self) -> str:
        if self.omitted:
            return ""
        anchor = self.anchor or re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")
        inner = "\n".join(b.to_html() for b in self.blocks)
        return f'<section class="oc-section" id="{anchor}"><h2>{html.escape(self.title)}</h2>\n{inner}</section>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def show(self) -> None:
        """Display in a notebook (the report notebook calls this for every section)."""
        if self.omitted:
            return
        show_html(self.to_html())


def title_block(evaluation: object, generated: str = "") -> str:
    """The report's title, period and contents, as HTML."""
    cfg = evaluation.cfg
    school = getattr(cfg, "site_kind", "school") == "school"
    contents = [
        ("executive-summary", "Executive summary"), ("success-measures", "Success measures"),
        ("reach", "Reach"), ("access", "Access"), ("before-and-after", "Before and after"),
        ("monitoring-charts", "Monitoring charts"),
        ("by-school-and-team", "By school and team" if school else "By site and team"),
        ("outcomes", "Outcomes"), ("experience", "Experience"),
        ("workforce", "Workforce confidence"), ("school-population", "School population"),
        ("equity", "Equity"), ("costs", "Costs and value"),
        ("data-quality", "Data quality and methods"), ("appendix", "Appendix"),
    ]  # fmt: skip
    if not school:  # no school sections
        contents = [c for c in contents if c[0] not in ("workforce", "school-population")]
    links = " · ".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in contents)
    when = f" Generated {html.escape(generated)}." if generated else ""
    return (
        f'<div class="oc-title"><h1>{html.escape(cfg.programme)}</h1>'
        f"<p>12-month evaluation: {cfg.period.start:%d %B %Y} to {cfg.period.end:%d %B %Y}."
        f"{when}</p><nav>{links}</nav></div>"
    )
