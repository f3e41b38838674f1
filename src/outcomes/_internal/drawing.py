"""Figures as PNG: the report's one way of drawing them, here or in a second process.

Drawing is a tenth of a second per report figure and a fifth of the demo report's build, all
of it on one core. While a report is built (:func:`parallel`) a second Python process draws
figures handed to it as pickles, and the build goes on meanwhile: a figure goes to that
process when it is idle and is drawn here otherwise, so the two share the figures as they
come. The PNG is the same byte for byte wherever it is drawn (the figure is pickled whole; the
drawing process uses matplotlib's Agg backend with matplotlib's default settings, as the
build does); warnings raised while drawing are sent back and raised again here, where the
caller records them; a figure the other process could not draw is drawn here, so its error is
raised exactly as without the second process.

The second process is started with ``subprocess`` (not :mod:`multiprocessing`, whose start
methods import the caller's ``__main__`` again: a script calling ``build_report`` without a
``__main__`` guard would build its report a second time) and only where that can pay: two or
more cores to use (:func:`outcomes._internal.threads.usable`; ``OUTCOMES_THREADS=1`` keeps
everything in this process) on a POSIX system. If it cannot start, every figure is drawn here.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import select
import struct
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

#: resolution of the report's PNGs
DPI = 100
#: zlib level of the report's PNGs: 3 rather than PIL's default 6 encodes the report's
#: flat-coloured charts in about two thirds of the time into files no larger (the same
#: pixels: PNG compression is lossless)
PNG_LEVEL = 3
#: seconds to wait for the other process's answer before drawing the figure here instead
TIMEOUT = 120.0
_HEADER = struct.Struct(">Q")


def save_options() -> dict:
    """``savefig`` options of every report figure (a new dict: matplotlib may add to it)."""
    return {"format": "png", "dpi": DPI, "pil_kwargs": {"compress_level": PNG_LEVEL}}


def png(fig) -> bytes:
    """The figure as PNG, cropped to its drawn content plus matplotlib's padding
    (``bbox_inches="tight"``).

    matplotlib's "tight" draws the whole figure once, unseen, then measures it, then draws it
    again to save it. Measuring lays out every text and tick itself, so without a layout
    engine (which needs that first draw) the box is measured directly and the figure drawn
    once: the same box and the same PNG, byte for byte, in about four fifths of the time."""
    import matplotlib as mpl

    buf = io.BytesIO()
    pad = mpl.rcParams["savefig.pad_inches"]
    if fig.get_layout_engine() is None and fig.dpi == DPI and isinstance(pad, int | float):
        from matplotlib.backends.backend_agg import RendererAgg

        width, height = fig.bbox.size
        box = fig.get_tightbbox(RendererAgg(int(width), int(height), DPI))
        fig.savefig(buf, bbox_inches=box.padded(pad), **save_options())
    else:
        fig.savefig(buf, bbox_inches="tight", **save_options())
    return buf.getvalue()


# ---------------------------------------------------------------- framing on the two pipes
def _frame(obj) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int, size: int) -> bytes:
    parts, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other process closed the pipe")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _next(fd: int):
    (size,) = _HEADER.unpack(_receive(fd, _HEADER.size))
    return pickle.loads(_receive(fd, size))


def serve() -> None:
    """The drawing process: pickled figures in on stdin, ``("ok", png, warnings)`` or
    ``("error", message, [])`` out on stdout, until stdin closes."""
    # the answers get their own copy of stdout; anything a library prints goes nowhere instead
    # of into an answer
    answers = os.dup(1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdout = open(os.devnull, "w")  # for the life of the process
    import matplotlib

    matplotlib.use("Agg")
    _warm_up()
    _send(answers, _frame(("ready", None, [])))
    while True:
        try:
            fig = _next(0)
        except EOFError:
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                answer = ("ok", png(fig), [])
            except Exception as e:  # the caller draws it itself and meets the error there
                answer = ("error", f"{type(e).__name__}: {e}", [])
        answer[2].extend((str(w.message), w.category, w.filename, w.lineno) for w in caught)
        try:
            data = _frame(answer)
        except Exception:  # a warning that does not pickle: the caller draws it itself
            data = _frame(("error", "a warning could not be sent back", []))
        _send(answers, data)


def _warm_up() -> None:
    """Draw a figure with what report figures have (text, ticks, lines, bars, a legend), so
    that the first real one does not also pay for loading fonts and code (a quarter second)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 3, 2], marker="o", label="a line")
    ax.bar([0, 1, 2], [2, 1, 3], label="bars")
    ax.axhline(1.5, linestyle="--")
    ax.set_title("Warm-up 0123456789%")
    ax.set_xlabel("Month")
    ax.set_ylabel("Referrals")
    ax.legend()
    png(fig)


class Pending:
    """A figure given to the other process; :meth:`result` is its PNG."""

    def __init__(self, drawer: Drawer, fig):
        self._drawer = drawer
        self.fig = fig
        self._answer: tuple | None = None
        self._png: bytes | None = None

    def result(self) -> bytes:
        """The PNG (waiting for it): the other process's, or drawn here if it could not draw
        it; warnings met while drawing are raised here."""
        if self._png is None:
            while self._answer is None and self._drawer._take_one(block=True):
                pass
            status, data, caught = self._answer or ("lost", None, [])
            if status == "ok":
                for message, category, filename, lineno in caught:
                    warnings.warn_explicit(message, category, filename, lineno)
                self._png = data
            else:
                self._png = png(self.fig)  # any error raised as without the other process
            self.fig = None
        return self._png


class Drawer:
    """The second drawing process and the figures given to it, in order."""

    def __init__(self):
        here = str(Path(__file__).resolve().parents[2])  # the folder holding `outcomes`
        code = f"import sys; sys.path.insert(0, {here!r}); from {__name__} import serve; serve()"
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "MPLBACKEND": "Agg"},
            bufsize=0,
        )
        self._ready = False
        self._closed = False
        self._queue: list[Pending] = []  # given, not yet answered, in the order given

    def _take_one(self, block: bool) -> bool:
        """Read one answer if there is one (waiting up to TIMEOUT for it if ``block``); False
        once the process cannot answer (what was given to it is then drawn here)."""
        if self._closed:
            return False
        fd = self._proc.stdout.fileno()
        if not select.select([fd], [], [], TIMEOUT if block else 0)[0]:
            if block:
                self.close()
                return False
            return True
        try:
            answer = _next(fd)
        except (EOFError, OSError, pickle.UnpicklingError):
            self.close()
            return False
        if answer[0] == "ready":
            self._ready = True
        elif self._queue:
            self._queue.pop(0)._answer = answer
        return True

    def idle(self) -> bool:
        """Whether the process has started and has nothing to draw (answers read meanwhile)."""
        fd = -1 if self._closed else self._proc.stdout.fileno()
        while not self._closed and (not self._ready or self._queue):
            if not select.select([fd], [], [], 0)[0] or not self._take_one(block=False):
                break
        return not self._closed and self._ready and not self._queue

    def draw(self, fig) -> bytes | Pending:
        """The figure's PNG, or a :class:`Pending` one when the other process is idle."""
        if not self.idle():
            return png(fig)
        try:
            data = _frame(fig)
        except Exception:  # a figure holding something that does not pickle: drawn here
            return png(fig)
        try:
            _send(self._proc.stdin.fileno(), data)
        except OSError:
            self.close()
            return png(fig)
        pending = Pending(self, fig)
        self._queue.append(pending)
        return pending

    def close(self) -> None:
        """Stop the process; a figure given to it and not answered is drawn here when asked."""
        if self._closed:
            return
        self._closed = True
        self._queue.clear()  # their answers stay None: drawn here
        # killed, not asked to exit: it holds nothing to save, and an interpreter with
        # matplotlib loaded takes a fifth of a second to shut down
        proc = self._proc
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()


_active: Drawer | None = None


def active() -> Drawer | None:
    """The drawing process of the report being built, if any."""
    return _active


def draw(fig) -> bytes | Pending:
    """The figure's PNG: drawn here, or (while :func:`parallel` is on) perhaps pending in the
    other process."""
    return _active.draw(fig) if _active is not None else png(fig)


def worth_a_process() -> bool:
    """Two or more cores to use, on a system where the pipes can be polled."""
    from .threads import usable

    return os.name == "posix" and usable() >= 2


@contextlib.contextmanager
def parallel() -> Iterator[Drawer | None]:
    """Figures drawn meanwhile in a second process, where that can pay (stopped on exit)."""
    global _active
    if _active is not None or not worth_a_process():
        yield _active
        return
    try:
        drawer = Drawer()
    except OSError:  # no process could be started: every figure is drawn here
        yield None
        return
    _active = drawer
    try:
        yield drawer
    finally:
        _active = None
        drawer.close()
