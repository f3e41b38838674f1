"""Build-time helpers for the documentation site (MkDocs hook and griffe extension).

* ``on_page_markdown`` fills ``docs/catalogue.md`` from the instrument YAML files with
  ``outcomes.instruments.catalogue.catalogue_markdown()``, so the published description of every scoring
  rule is generated from the rule that is applied and cannot drift from it.
* ``ExampleSections`` lets the API reference render the package's docstring examples. The
  docstrings are numpy style but label their doctest ``Example:`` (or ``Example`` underlined),
  which numpydoc does not know: griffe would read the label as a parameter named "Example" and
  the ``>>>`` lines as Markdown prose. The extension rewrites the label to a numpydoc
  ``Examples`` section before the docstring is parsed; the source files are not touched.
"""

from __future__ import annotations

import re
import textwrap

MARKER = "<!-- outcomes:catalogue -->"

# "Example:", "Examples:", "Example::" or "Example"/"Examples" underlined with dashes.
_LABEL = re.compile(r"^(?P<indent>[ \t]*)Examples?:{0,2}[ \t]*$")
_DASHES = re.compile(r"^[ \t]*-{3,}[ \t]*$")


def on_page_markdown(markdown: str, page, config, files) -> str:  # MkDocs hook signature
    if page.file.src_uri != "catalogue.md":
        return markdown
    if MARKER not in markdown:
        # A silent stub would publish an empty catalogue: refuse instead.
        raise ValueError(f"docs/catalogue.md has lost its marker {MARKER!r}")
    from outcomes.instruments.catalogue import catalogue_markdown

    return catalogue_markdown()


def normalise_examples(doc: str) -> str:
    """Turn an ``Example:`` label and its body into a numpydoc ``Examples`` section.

    A label ending in a colon owns the lines indented deeper than itself; an underlined label
    owns the lines up to the next underlined section. Anything else is left alone.
    """
    lines = doc.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _LABEL.match(lines[i])
        underlined = bool(m) and i + 1 < len(lines) and bool(_DASHES.match(lines[i + 1]))
        if m is None or not (underlined or lines[i].rstrip().endswith(":")):
            out.append(lines[i])
            i += 1
            continue
        indent = len(m["indent"])
        j = i + 2 if underlined else i + 1
        body: list[str] = []
        while j < len(lines):
            line = lines[j]
            depth = len(line) - len(line.lstrip())
            if line.strip():
                if depth < indent or (not underlined and depth == indent):
                    break
                next_is_dashes = j + 1 < len(lines) and _DASHES.match(lines[j + 1])
                if underlined and depth == indent and next_is_dashes:
                    break  # the next numpydoc section
            body.append(line)
            j += 1
        if out and out[-1].strip():
            out.append("")
        pad = " " * indent
        out += [pad + "Examples", pad + "--------"]
        out += [
            (pad + b) if b.strip() else "" for b in textwrap.dedent("\n".join(body)).split("\n")
        ]
        i = j
    return "\n".join(out)


try:
    import griffe
except ImportError:  # pragma: no cover - only the docs extra installs griffe
    griffe = None

if griffe is not None:

    class ExampleSections(griffe.Extension):
        """Griffe extension: normalise example labels before docstrings are parsed."""

        def on_instance(self, *, obj, **kwargs) -> None:
            if obj.docstring is not None:
                obj.docstring.value = normalise_examples(obj.docstring.value)
