"""Figures as PNG: the report's one way of drawing them, here or in a second process.

Drawing is a tenth of a second per report figure and a fifth of the demo report's build, all
of it on one core. While a report is built (:func:`parallel`) a second Python process draws
figures handed to it as pickles, one at a time in the order given, while the build goes on
here; a thread here hands them over and collects the answers (it waits on the pipes, which
does not hold the GIL). When the build needs a figure the other process has not started on, it
takes it back and draws it here, so it never waits for more than the figure being drawn. The
PNG is the same byte for byte wherever it is drawn (the figure is pickled whole; the drawing
process uses matplotlib's Agg backend with matplotlib's default settings, as the build does);
warnings raised while drawing are sent back and raised again here, where the caller records
them; a figure the other process could not draw is drawn here, so its error is raised exactly
as without the second process.

The second process is started with ``subprocess`` (not :mod:`multiprocessing`, whose start
methods import the caller's ``__main__`` again: a script calling ``build_report`` without a
``__main__`` guard would build its report a second time) and only where that can pay: two or
more cores to use (:func:`outcomes._internal.threads.usable`; ``OUTCOMES_THREADS=1`` keeps
everything in this process) on a POSIX system. If it cannot start, every figure is drawn here.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import pickle
import struct
import subprocess
import sys
import threading
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
    """A figure handed to the other process; :meth:`result` is its PNG."""

    def __init__(self, drawer: Drawer, fig, data: bytes):
        self._drawer = drawer
        self.fig = fig
        self.data = data  # the pickled figure, until sent
        self.sent = False
        self.answered = threading.Event()
        self.answer: tuple | None = None
        self._png: bytes | None = None

    def result(self) -> bytes:
        """The PNG: the other process's (waiting for it if it is drawing it), or drawn here if
        it has not started on it or could not draw it; warnings met while drawing are raised
        here."""
        if self._png is None:
            answer = self._drawer._answer_for(self)
            if answer is not None and answer[0] == "ok":
                for message, category, filename, lineno in answer[2]:
                    warnings.warn_explicit(message, category, filename, lineno)
                self._png = answer[1]
            else:
                self._png = png(self.fig)  # any error raised as without the other process
            self.fig = self.data = None
        return self._png


class Drawer:
    """The second drawing process, and a thread here that hands it the figures given to it,
    one at a time, in order, and collects the answers."""

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
        self._changed = threading.Condition()
        self._waiting: collections.deque[Pending] = collections.deque()
        self._closed = False
        self._sending: Pending | None = None
        self._thread = threading.Thread(
            target=self._hand_over, name="outcomes-drawing", daemon=True
        )
        self._thread.start()

    def _hand_over(self) -> None:
        """The thread: wait for the process to be ready, then give it the next figure waiting,
        wait for its answer (the pipes are read and written without the GIL), and so on."""
        sending, answers = self._proc.stdin.fileno(), self._proc.stdout.fileno()
        try:
            if _next(answers)[0] != "ready":
                raise EOFError("the drawing process did not start")
            while True:
                with self._changed:
                    while not self._waiting and not self._closed:
                        self._changed.wait()
                    if self._closed:
                        return
                    job = self._sending = self._waiting.popleft()
                    job.sent = True
                _send(sending, job.data)
                job.answer = _next(answers)
                job.answered.set()
                self._sending = None
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            self.close()

    def _answer_for(self, job: Pending) -> tuple | None:
        """The other process's answer for ``job``, or None if it has not been sent (it is then
        taken back: drawing it here is quicker than waiting) or cannot be answered."""
        with self._changed:
            if not job.sent:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(job)
                return None
        if not job.answered.wait(TIMEOUT):
            self.close()
        return job.answer

    def draw(self, fig) -> bytes | Pending:
        """A :class:`Pending` PNG of the figure (drawn here at once if it cannot be pickled or
        the process has stopped)."""
        if self._closed:
            return png(fig)
        try:
            data = _frame(fig)
        except Exception:  # a figure holding something that does not pickle: drawn here
            return png(fig)
        job = Pending(self, fig, data)
        with self._changed:
            self._waiting.append(job)
            self._changed.notify()
        return job

    def close(self) -> None:
        """Stop the process; a figure given to it and not answered is drawn here when asked."""
        with self._changed:
            if self._closed:
                return
            self._closed = True
            self._waiting.clear()
            self._changed.notify_all()
        # killed, not asked to exit: it holds nothing to save, and an interpreter with
        # matplotlib loaded takes a fifth of a second to shut down
        proc = self._proc
        proc.kill()
        proc.wait()
        if self._sending is not None:  # never answered now: drawn here when asked for
            self._sending.answered.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=TIMEOUT)
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
    """Two or more cores to use, on a POSIX system (the only kind this is tested on)."""
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
