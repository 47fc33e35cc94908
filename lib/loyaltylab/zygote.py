"""Kernels forked from a process that has already imported the analysis stack, for the batch runner.

Every job of a batch ran in a fresh kernel that spent ~4 s of CPU importing pandas, scipy, statsmodels, lifelines
and matplotlib before its first cell (issue 15: with two workers the batch was CPU-bound, and that was a third of
it). The zygote is a plain Python process, started once per kernel pool, that imports those modules and then waits;
each kernel is a ``fork`` of it that becomes an ordinary IPython kernel (``ipykernel``'s own launcher, the
notebook's folder, the kernel's environment). The kernel still starts with nothing of the notebook's: the zygote
only imports modules — it runs no analysis, sets no option and holds no data — so a forked kernel is what a fresh
kernel is once the notebook's imports have run.

The zygote is single-threaded when it forks (forking a running kernel, with its threads, would not be safe). It
exits when its pool closes or when the runner that started it dies (its stdin closes). Anything that goes wrong
here is not an error: :class:`ForkedKernelProvisioner` then launches the kernel the ordinary way.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PRELOAD = (
    "numpy", "pandas", "scipy.stats", "scipy.optimize", "matplotlib", "matplotlib.pyplot", "statsmodels.api",
    "pandera.pandas", "lifelines", "sklearn.metrics", "jieba", "IPython", "ipykernel.kernelapp",
    "loyaltylab.notebook", "loyaltylab.plots", "loyaltylab.themes", "loyaltylab.analyses",
)
"""What every kernel of the batch would import (the analysis packages are imported from ``loyaltylab.analyses``'s
registry), and the Chinese segmenter's dictionary loaded once (:func:`loyaltylab.themes.warm_up`). A module that
fails to import is skipped; the notebook imports it, or fails, itself."""

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
READY = b"ready\n"
START_TIMEOUT = 120.0
LAUNCHER = ("-m", "ipykernel_launcher")


def supported() -> bool:
    """Forking needs POSIX; macOS's system libraries are not fork-safe once loaded, so only Linux forks here."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


# --------------------------------------------------------------------------------------------------------------------
# The zygote process
# --------------------------------------------------------------------------------------------------------------------
def _preload() -> None:
    import importlib

    # ipykernel sets this at start-up unless the environment chose a backend; matplotlib reads it when imported
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    for name in PRELOAD:
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        if name == "loyaltylab.themes":
            try:
                module.warm_up()
            except Exception:
                pass
        if name == "loyaltylab.analyses":
            for analysis in getattr(module, "ANALYSES", ()):
                try:
                    importlib.import_module(f"loyaltylab.analyses.{analysis}")
                except Exception:
                    pass


def serve(address: str) -> None:
    """Import :data:`PRELOAD`, say ``ready`` on stdout, then fork one kernel per request on the Unix socket at
    ``address`` (a JSON line: argv, cwd, env; answered with the child's pid). Ends when stdin closes."""
    import selectors

    _preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system; the pool watches their pids
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(8)
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    os.dup2(2, 1)  # nobody reads the pipe after "ready": the kernels' own output goes where the runner's errors go
    watch = selectors.DefaultSelector()
    watch.register(server, selectors.EVENT_READ)
    watch.register(sys.stdin, selectors.EVENT_READ)
    while True:
        for key, _ in watch.select():
            if key.fileobj is not server:  # the pool closed our stdin, or its process died
                return
            conn, _ = server.accept()
            with conn:
                request = json.loads(_read_line(conn))
                pid = os.fork()
                if pid == 0:
                    server.close()
                    conn.close()
                    _become_kernel(request)
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _become_kernel(request: dict) -> None:
    """In the forked child: the kernel's own session, folder, environment and arguments, then ipykernel's launcher."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)  # the zygote's stdin is the pool's pipe: not the kernel's
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # the kernel exits when the zygote does (ipykernel read JPY_PARENT_PID when the zygote imported it)
        argv = [*request["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        sys.argv = [sys.executable, *argv]
        if sys.path and sys.path[0] in ("", os.getcwd()):
            del sys.path[0]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


# --------------------------------------------------------------------------------------------------------------------
# The pool's side
# --------------------------------------------------------------------------------------------------------------------
class Zygote:
    """A running zygote: ``fork(argv, cwd, env)`` returns a kernel's pid, or None when it cannot."""

    def __init__(self, folder: str | os.PathLike, env: dict[str, str], *, own_folder: bool = False):
        self.folder, self.own_folder = Path(folder), own_folder  # own_folder: removed on close
        self.address = str(self.folder / "zygote")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from loyaltylab import zygote; zygote.serve(sys.argv[1])",
             self.address],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True,
        )
        self._ready: bool | None = None

    @classmethod
    def at(cls, address: str) -> Zygote:
        """A handle on a zygote another process of the batch started (the ``-j`` workers share the runner's): it
        forks through the socket and leaves the zygote to its owner."""
        handle = cls.__new__(cls)
        handle.folder, handle.own_folder, handle.address = Path(address).parent, False, str(address)
        handle.process, handle._ready = None, None
        return handle

    def ready(self, timeout: float = START_TIMEOUT) -> bool:
        """Wait until the zygote has imported everything (False when it died or never said so)."""
        if self.process is None:  # another process's zygote: ready once its socket exists
            if self._ready is None:
                deadline = time.monotonic() + timeout
                while not os.path.exists(self.address) and time.monotonic() < deadline:
                    time.sleep(0.05)
                self._ready = os.path.exists(self.address)
            return self._ready
        if self._ready is None:
            import selectors

            watch = selectors.DefaultSelector()
            watch.register(self.process.stdout, selectors.EVENT_READ)
            self._ready = bool(watch.select(timeout)) and self.process.stdout.readline() == READY
        return self._ready

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> int | None:
        if not self.ready() or (self.process is not None and self.process.poll() is not None):
            return None
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(30)
                conn.connect(self.address)
                conn.sendall(json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode() + b"\n")
                answer = json.loads(_read_line(conn) or b"{}")
        except (OSError, ValueError):
            return None
        pid = answer.get("pid")
        return pid if isinstance(pid, int) and pid > 0 else None

    def close(self) -> None:
        if self.process is None:  # not ours to stop
            return
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()
        finally:
            if self.process.stdout:
                self.process.stdout.close()
            Path(self.address).unlink(missing_ok=True)
            if self.own_folder:
                import shutil

                shutil.rmtree(self.folder, ignore_errors=True)


class ForkedProcess:
    """What jupyter_client's local provisioner needs of a ``Popen`` (poll, wait, signals) for a kernel forked by the
    zygote, which is not our child: its exit is seen through a pidfd (or, without one, its pid disappearing)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = None

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        if self._pidfd is not None:
            import select

            if select.select([self._pidfd], [], [], 0)[0]:
                self._exited()
        else:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self._exited()
            except PermissionError:
                pass
        return self.returncode

    def _exited(self) -> None:
        self.returncode = 0
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _same_python(executable: str) -> bool:
    """Whether the kernel spec runs this Python (the zygote's); another interpreter is launched as usual."""
    import shutil

    found = shutil.which(executable) or executable
    return os.path.abspath(found) == os.path.abspath(sys.executable)


def provisioner_class():
    """jupyter_client's local provisioner, launching ``python -m ipykernel_launcher …`` as a fork of the zygote
    handed to it (``zygote``), or the ordinary way when there is none or it cannot."""
    from jupyter_client.provisioning import LocalProvisioner

    class ForkedKernelProvisioner(LocalProvisioner):
        zygote: Zygote | None = None

        async def launch_kernel(self, cmd, **kwargs):
            argv = list(cmd)
            zygote = self.zygote
            if zygote is not None and len(argv) > 3 and tuple(argv[1:3]) == LAUNCHER and _same_python(argv[0]):
                env = dict(kwargs.get("env") or os.environ)
                cwd = str(kwargs.get("cwd") or os.getcwd())
                pid = zygote.fork(argv[3:], cwd, env)
                if pid is not None:
                    self.process = ForkedProcess(pid)
                    self.pid = self.pgid = pid  # the kernel leads its own session and process group
                    self.cwd = cwd
                    return self.connection_info
            return await super().launch_kernel(cmd, **kwargs)

    return ForkedKernelProvisioner
