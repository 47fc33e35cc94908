"""Kernels for the batch runner, one step ahead: while a job runs, the kernel of the next job starts and imports
what that notebook imports; a finished job's kernel shuts down in the background.

Starting a kernel (~0.8 s), importing pandas / scipy / matplotlib (~3 s) and stopping it (~1 s) were half of a
course batch's time (issue 15); here they overlap the previous job. The notebook still runs top to bottom in a
fresh kernel of its own: the warm-up only imports modules (run silently, outside the history, so the notebook's
execution counts start at 1), it defines nothing in the notebook's namespace and sets no option. Warnings that a
module prints while it is imported go to the warm-up, not to the notebook's stderr (which the reports hide anyway).

On Linux each kernel is forked from the pool's zygote (:mod:`loyaltylab.zygote`), a process that imported the
analysis stack once, so a job's kernel no longer spends ~4 s of CPU on imports (``LOYALTYLAB_FORK_KERNELS=0``
starts every kernel as its own process instead).

Anything that goes wrong ahead of time (the kernel does not start, an import fails) is not an error: that job's
kernel is then started the ordinary way by papermill, so a failure shows on the job's page exactly as before.
"""
from __future__ import annotations

import ast
import itertools
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from loyaltylab import zygote

KERNEL_NAME = "python3"
KERNEL_START_TIMEOUT = 120
# The kernel's own log (not the notebook's output) would print "KeyboardInterrupt caught in kernel" at random:
# jupyter_client interrupts every kernel it shuts down. Failures still reach the job's page and the summary.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
HISTORY_ARGUMENT = "--HistoryManager.hist_file=:memory:"  # what nbclient adds for the kernels it starts
WARM_UP_TIMEOUT = 300
FORK_SWITCH = "LOYALTYLAB_FORK_KERNELS"  # "0": every kernel starts as its own process (no zygote)

LAZY_IMPORTS: dict[str, tuple[str, ...]] = {
    "loyaltylab": ("pandera.pandas",),  # every analysis validates its input
    "loyaltylab.analyses.nps": ("statsmodels.api", "jieba"),
    "loyaltylab.analyses.servqual": ("statsmodels.multivariate.factor", "statsmodels.multivariate.factor_rotation"),
    "loyaltylab.analyses.drivers": ("statsmodels.api",),
    "loyaltylab.analyses.churn": ("lifelines", "sklearn.metrics", "statsmodels.nonparametric.smoothers_lowess"),
}
"""Heavy modules an analysis imports inside a function (so that a notebook that does not need them does not pay
for them); the warm-up imports them ahead for notebooks that import the analysis. Missing entries only cost time."""


def skip_iri_grammar() -> None:
    """Keep jsonschema (imported by nbformat) from compiling its RFC 3987 grammar, ~2 s of every runner start and
    of every ``-j`` worker (jsonschema issue #1428). The grammar only serves the ``iri`` / ``iri-reference``
    formats of JSON Schema draft 7 and later; the notebook schema is draft 4 and uses no format, so notebooks are
    validated exactly as before. Only this process is affected (kernels are separate processes), and only when
    jsonschema is not imported yet."""
    import sys

    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # its import then fails, which jsonschema expects


def notebook_imports(notebook: str | os.PathLike) -> list[str]:
    """Modules a notebook's code cells import at their top level (the parameters cell aside), in order, with
    ``from a import b`` giving ``a`` and the candidate submodule ``a.b``; then their :data:`LAZY_IMPORTS`. Cells
    that are not plain Python (magics) are skipped."""
    skip_iri_grammar()
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    names: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += [node.module, *(f"{node.module}.{a.name}" for a in node.names if a.name != "*")]
    extra = [m for name in names for m in LAZY_IMPORTS.get(name, ())]
    return list(dict.fromkeys(names + extra))


def warm_up_code(modules: list[str]) -> str:
    """Code that imports ``modules`` (each may fail: it is then imported, or fails, when the notebook asks) and
    leaves no name behind."""
    return (
        "def _loyaltylab_warm_up(names):\n"
        "    import importlib\n"
        "    for name in names:\n"
        "        try:\n"
        "            importlib.import_module(name)\n"
        "        except Exception:\n"
        "            pass\n"
        f"_loyaltylab_warm_up({modules!r})\n"
        "del _loyaltylab_warm_up\n"
    )


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The kernel's environment: ours, without a non-inline MPLBACKEND (Agg in CI would keep figures out of the
    HTML), plus ``extra``."""
    env = dict(os.environ)
    if "inline" not in env.get("MPLBACKEND", "inline"):
        del env["MPLBACKEND"]
    env.update(extra or {})
    return env


def _manager_class():
    from jupyter_client import KernelManager

    class PoolKernelManager(KernelManager):
        """Starts and stops in any thread (blocking); hands nbclient the asynchronous client it needs, and remembers
        the clients it made so their sockets are closed when the job ends."""

        def __init__(self, **kwargs):
            super().__init__(client_class="jupyter_client.asynchronous.AsyncKernelClient", **kwargs)
            self.made_clients: list = []

        def client(self, **kwargs):
            made = super().client(**kwargs)
            self.made_clients.append(made)
            return made

    return PoolKernelManager


class KernelPool:
    """At most one kernel prepared ahead, for a given notebook folder; used kernels shut down in the background.

    ``prepare(notebook)`` starts the kernel for the next job in a thread; ``take(notebook)`` returns it when it
    started and warmed up (in the notebook's folder), else None; ``release(km)`` shuts a used kernel down in the
    background; ``close()`` stops everything. On POSIX the kernels talk over Unix sockets in a private folder
    (nothing listens on the network); elsewhere over localhost TCP."""

    def __init__(self, env: dict[str, str] | None = None, kernel_name: str = KERNEL_NAME,
                 zygote_address: str | None = None):
        self.kernel_name = kernel_name
        self.env = kernel_env(env)
        self._sockets = tempfile.mkdtemp(prefix="loyaltylab-") if os.name == "posix" else None
        self._count = itertools.count()
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loyaltylab-kernel-start")
        self._stopper = ThreadPoolExecutor(max_workers=2, thread_name_prefix="loyaltylab-kernel-stop")
        self._next: tuple[Path, Future] | None = None
        self._stopping: list[tuple[object, Future]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._zygote = None
        if forking() and self._sockets:  # its imports run while the runner prepares the first job
            self._zygote = (zygote.Zygote.at(zygote_address) if zygote_address
                            else _adopt_early_zygote() or _own_zygote())

    @property
    def _forks(self) -> bool:
        """Whether this pool's kernels are forked from a zygote."""
        return self._zygote is not None

    # -- one job ahead ------------------------------------------------------------------------------------------
    def prepare(self, notebook: str | os.PathLike | None) -> None:
        """Start (in the background) the kernel for a job of ``notebook``; None: nothing to prepare."""
        with self._lock:
            if self._closed or notebook is None or self._next is not None:
                return
            notebook = Path(notebook).resolve()
            self._next = (notebook, self._starter.submit(self._start, notebook))

    def take(self, notebook: str | os.PathLike) -> object | None:
        """The warm kernel manager for a job of ``notebook`` (prepared now if it was not), or None if none could be
        started; a kernel warmed for another folder is shut down."""
        notebook = Path(notebook).resolve()
        self.prepare(notebook)
        with self._lock:
            prepared, self._next = self._next, None
        if prepared is None:
            return None
        folder, future = prepared[0].parent, prepared[1]
        try:
            km = future.result()
        except Exception:
            return None
        if km is not None and folder != notebook.parent:
            self.release(km)
            return None
        return km

    def release(self, km) -> None:
        """Close the job's client sockets now and shut its kernel down in the background."""
        if km is None:
            return
        for made in getattr(km, "made_clients", ()):
            try:
                made.stop_channels()
            except Exception:  # a client that never connected
                pass
        self._stopping = [(k, f) for k, f in self._stopping if not f.done()]
        try:
            self._stopping.append((km, self._stopper.submit(_shutdown, km, False)))
        except RuntimeError:  # the pool is closing: shut it down here
            _shutdown(km, True)

    def close(self) -> None:
        """Kill the kernel prepared for a job that never came and the used ones still exiting (their jobs are
        done and written: nothing is lost, and the batch need not wait ~1 s for a clean exit), then remove the
        sockets' folder."""
        with self._lock:
            self._closed = True
            prepared, self._next = self._next, None
        for km, stopping in self._stopping:
            if not stopping.done():
                _kill(km)
        if prepared is not None:
            try:
                km = prepared[1].result()
            except Exception:
                km = None
            if km is not None:
                _shutdown(km, True)  # nothing ran in it: no need to wait for a clean exit
        self._starter.shutdown(wait=True)
        self._stopper.shutdown(wait=True)
        if self._zygote is not None:
            self._zygote.close()
        if self._sockets:
            import shutil

            shutil.rmtree(self._sockets, ignore_errors=True)

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- start and stop -------------------------------------------------------------------------------------------
    def _start(self, notebook: Path):
        """Start a kernel in the notebook's folder and import the notebook's modules; None when that fails."""
        options = {"transport": "ipc", "ip": os.path.join(self._sockets, f"kernel{next(self._count)}")} if (
            self._sockets) else {}
        km = _manager_class()(kernel_name=self.kernel_name, **options)
        if self._zygote is not None:
            self._fork_from_zygote(km)
        try:
            km.start_kernel(extra_arguments=[*KERNEL_ARGUMENTS, HISTORY_ARGUMENT], cwd=str(notebook.parent),
                            env=self.env)
            kc = km.blocking_client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
                reply = kc.execute_interactive(warm_up_code(notebook_imports(notebook)), silent=True,
                                               store_history=False, timeout=WARM_UP_TIMEOUT,
                                               output_hook=lambda msg: None)
            finally:
                kc.stop_channels()
            if reply.get("content", {}).get("status") != "ok" or not km.is_alive():
                raise RuntimeError("warm-up failed")
        except Exception:
            _shutdown(km, True)
            return None
        return km

    def _fork_from_zygote(self, km) -> None:
        """Have ``km`` launch its kernel as a fork of this pool's zygote (:mod:`loyaltylab.zygote`); the provisioner
        falls back to an ordinary launch whenever the zygote cannot fork."""
        import uuid

        try:
            km.kernel_id = str(uuid.uuid4())
            provisioner = zygote.provisioner_class()(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
            provisioner.zygote = self._zygote
            km.provisioner = provisioner
        except Exception:  # no provisioner: this and every later kernel start the ordinary way
            self._zygote, dropped = None, self._zygote
            dropped.close()


def forking() -> bool:
    """Whether the batch's kernels are forked from a zygote (Linux, unless ``LOYALTYLAB_FORK_KERNELS=0``)."""
    return zygote.supported() and os.environ.get(FORK_SWITCH, "1") != "0"


_EARLY: zygote.Zygote | None = None


def start_zygote_early() -> None:
    """Start a zygote now, so that its imports (~4 s) overlap the runner reading its configuration; the next
    :class:`KernelPool` adopts it (one left unadopted is closed at exit)."""
    global _EARLY
    if _EARLY is not None or not forking():
        return
    _EARLY = _own_zygote()
    if _EARLY is None:
        return
    import atexit

    atexit.register(_close_early_zygote)


def _adopt_early_zygote() -> zygote.Zygote | None:
    global _EARLY
    adopted, _EARLY = _EARLY, None
    return adopted


def shared_zygote() -> zygote.Zygote | None:
    """The zygote the ``-j`` workers share (their pools fork through its socket): the early one, or a new one; the
    caller closes it. None when kernels are not forked."""
    if not forking():
        return None
    return _adopt_early_zygote() or _own_zygote()


def _own_zygote() -> zygote.Zygote | None:
    """A new zygote in a folder of its own (removed when it closes), or None when it cannot start."""
    folder = tempfile.mkdtemp(prefix="loyaltylab-")
    try:
        return zygote.Zygote(folder, kernel_env(), own_folder=True)
    except Exception:
        os.rmdir(folder)
        return None


def _close_early_zygote() -> None:
    early = _adopt_early_zygote()
    if early is not None:
        early.close()


def _kill(km) -> None:
    import signal

    try:
        km.signal_kernel(getattr(signal, "SIGKILL", signal.SIGTERM))
    except Exception:  # already gone
        pass


def _shutdown(km, now: bool) -> None:
    """Stop a kernel (``now``: kill it rather than ask it to exit) and remove its connection file and sockets."""
    try:
        if km.has_kernel:
            km.shutdown_kernel(now=now)
            return
    except Exception:  # already gone
        pass
    try:
        km.cleanup_resources()
    except Exception:
        pass
