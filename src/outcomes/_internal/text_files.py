"""Text tables from anywhere: the separator and encoding found, not assumed.

Exports arrive comma-, semicolon- (KoboToolbox's default; Excel in many European locales) or
tab-separated (Qualtrics' UTF-16 download), in UTF-8 with or without a byte-order mark, UTF-16
or Windows cp1252 (Excel's "CSV" on Windows). Every text reader of the package (survey
imports, :func:`outcomes.io.read_table`) decodes and splits files here, so they agree, and a
file that cannot be read gets one message naming it and the guess.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutcomesError

#: Separators tried when none is given: KoboToolbox exports use ';' by default, Qualtrics'
#: UTF-16 download uses tabs.
SEPARATORS = (",", ";", "\t")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def decode(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding used: the one given, else UTF-8 (with or without a
    byte-order mark), UTF-16 (Qualtrics' tab-separated download) or Windows cp1252 (Excel's
    "CSV" on Windows), tried in that order."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise OutcomesError(f"{path}: could not be read: {e}") from None
    if encoding is not None:
        if not isinstance(encoding, str):
            raise OutcomesError(f"encoding must be a name such as 'utf-8', not {encoding!r}")
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as e:
            raise OutcomesError(
                f"{path}: is not {encoding} text (byte {e.start}: {e.reason}); "
                "leave encoding= out to let the reader guess"
            ) from None
        except (LookupError, ValueError):
            # LookupError: no such codec; ValueError: a name Python cannot even look up ("0\x00")
            raise OutcomesError(f"{path}: unknown encoding {encoding!r}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        guesses = ["utf-16"]
    elif data.startswith(b"\xef\xbb\xbf"):
        guesses = ["utf-8-sig"]
    else:
        sample = data[:4096]
        nul_even, nul_odd = sample[0::2].count(0), sample[1::2].count(0)
        guesses = ["utf-8"]
        # UTF-16 without a byte-order mark: ASCII characters leave a zero byte beside them
        if nul_odd > len(sample) // 4:
            guesses.insert(0, "utf-16-le")
        elif nul_even > len(sample) // 4:
            guesses.insert(0, "utf-16-be")
        guesses.append("cp1252")
    for enc in guesses:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise OutcomesError(
        f"{path}: not a text file in {', '.join(guesses)} (the encodings tried); if it is text, "
        "give its encoding with encoding= (e.g. 'latin-1'); if it is Excel, use .xlsx"
    )


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` as io.StringIO(text) yields them (split after each "\\n"), made
    only as far as they are read: sniffing reads about 20 records, not a copy of the file."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def sniff_sep(text: str, path: Path) -> str:
    """The separator that splits the first records into the same number (>1) of fields, the
    most fields winning; a file of one column uses the extension's default."""
    best, best_n = None, 1
    for sep in SEPARATORS:
        counts: set[int] = set()
        try:
            # records, not lines: a quoted cell may hold line breaks
            for k, row in enumerate(csv.reader(_lines(text), delimiter=sep)):
                if row:
                    counts.add(len(row))
                if k >= 20:
                    break
        except csv.Error:
            continue
        if len(counts) == 1 and (n := counts.pop()) > best_n:
            best, best_n = sep, n
    if best is None:
        # rows of unequal length (a ragged export): the separator most used in the header
        head = text.split("\n", 1)[0]
        n, sep = max((head.count(s), s) for s in SEPARATORS)
        best = sep if n else None
    return best or ("\t" if path.suffix.lower() == ".tsv" else ",")


@dataclass(frozen=True)
class TextFile:
    """A CSV/TSV export decoded, with the separator and encoding it was read with."""

    text: str
    sep: str
    encoding: str
    sep_given: bool
    encoding_given: bool

    def how(self) -> str:
        """E.g. "semicolon-separated (guessed) cp1252 (given)"."""
        sep = _SEP_NAMES.get(self.sep, repr(self.sep))
        return (
            f"{sep}-separated ({'given' if self.sep_given else 'guessed'}) "
            f"{self.encoding} ({'given' if self.encoding_given else 'guessed'})"
        )


def open_text(path: Path, *, sep: str | None = None, encoding: str | None = None) -> TextFile:
    """Decode a text table and find its separator, unless they are given.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "kobo.csv"
        >>> _ = p.write_bytes("q1;name\\n4;Zoë\\n".encode("cp1252"))
        >>> open_text(p).how()
        'semicolon-separated (guessed) cp1252 (guessed)'
    """
    text, enc = decode(path, encoding)
    sep_given = sep is not None
    sep = sep if sep_given else sniff_sep(text, path)
    if not isinstance(sep, str) or len(sep) != 1:
        raise OutcomesError(f"sep must be one character such as ',' ';' or '\\t', not {sep!r}")
    return TextFile(text, sep, enc, sep_given, encoding is not None)
