"""Batch kernels forked from a process that has imported the analysis stack (loyaltylab.zygote, issue 15): the
notebook sees what a freshly started kernel shows it, and nothing outlives the pool."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from loyaltylab import report, zygote

pytestmark = pytest.mark.skipif(not zygote.supported(), reason="kernels are forked on Linux only")

PROBE_CELLS = (
    "import os, sys\nimport matplotlib.pyplot as plt",
    "print('cwd:', os.getcwd())\nprint('pid:', os.getpid())\nprint('env:', os.environ.get('LOYALTYLAB_PROBE'))\n"
    "print('names:', sorted(n for n in globals() if not n.startswith('_') and n not in ('In', 'Out', 'exit', "
    "'quit', 'get_ipython', 'os', 'sys', 'plt', 'output_dir', 'interactive')))\n"
    "print('backend:', plt.get_backend())",
    "fig, ax = plt.subplots(figsize=(2, 1))\nax.plot([1, 2])\nplt.show()",
)


def _notebook(path, *cells):
    import nbformat

    params = nbformat.v4.new_code_cell("output_dir = '.'\ninteractive = True")
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Probe"), params,
                                         *(nbformat.v4.new_code_cell(c) for c in cells)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _stdout(result) -> dict[str, str]:
    import nbformat

    nb = nbformat.read(result.out_dir / "executed.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.get("name") == "stdout")
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.notebook
def test_a_forked_kernel_is_what_a_fresh_kernel_is(tmp_path, monkeypatch):
    """Forked from the zygote: the notebook's folder, the pool's environment, no name of the zygote's, the inline
    backend (figures reach the page) — the same as the ordinary start; the kernel and the zygote exit with the pool."""
    from loyaltylab import kernels

    folder = tmp_path / "nb"
    folder.mkdir()
    nb_path = _notebook(folder / "probe.ipynb", *PROBE_CELLS)
    monkeypatch.setenv("LOYALTYLAB_PROBE", "from-the-runner")
    with kernels.KernelPool() as pool:
        pool.prepare(nb_path)
        forked = report.run_notebook(nb_path, {}, tmp_path / "forked", name="forked", kernel_pool=pool)
        km_provisioner = pool._zygote
        zygote_pid = km_provisioner.process.pid
    monkeypatch.setenv(kernels.FORK_SWITCH, "0")
    with kernels.KernelPool() as pool:
        assert pool._forks is False
        ordinary = report.run_notebook(nb_path, {}, tmp_path / "ordinary", name="ordinary", kernel_pool=pool)
        assert pool._zygote is None
    seen = {}
    for result in (forked, ordinary):
        assert result.ok, result.error
        out = _stdout(result)
        seen[result.name] = out
        assert out["cwd"] == str(folder)
        assert out["env"] == "from-the-runner"
        assert "inline" in out["backend"]
        assert (result.out_dir / "report.html").read_text(encoding="utf-8").count("data:image/png") >= 1
    assert seen["forked"]["names"] == seen["ordinary"]["names"]  # the zygote leaves no name behind
    assert seen["forked"]["pid"] != seen["ordinary"]["pid"]
    assert _gone(int(seen["forked"]["pid"])) and _gone(zygote_pid)


def test_a_zygote_whose_runner_dies_exits_and_takes_its_kernels(tmp_path):
    """The zygote watches its stdin (the runner's pipe); a kernel forked from it exits once it is gone."""
    z = zygote.Zygote(tmp_path, dict(os.environ))
    try:
        assert z.ready()
        pid = z.fork(["-f", str(tmp_path / "kernel.json"), "--transport=ipc", f"--ip={tmp_path / 'k'}"],
                     str(tmp_path), dict(os.environ))
        assert pid is not None and not _gone(pid, 1)
    finally:
        z.process.stdin.close()  # what the runner's death does to the pipe
    assert z.process.wait(timeout=10) is not None
    assert _gone(pid, 15)


def test_forked_process_handle_polls_and_signals_a_process_that_is_not_our_child():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        handle = zygote.ForkedProcess(proc.pid)
        assert handle.poll() is None
        handle.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert handle.wait(timeout=10) == 0 and handle.poll() == 0
        handle.kill()  # already gone: nothing to signal
    finally:
        proc.kill()
        proc.wait()


def test_the_provisioner_launches_the_ordinary_way_without_a_zygote_or_for_another_python():
    assert zygote._same_python(sys.executable)
    assert not zygote._same_python("/usr/bin/no-such-python")


@pytest.mark.notebook
def test_the_workers_of_a_parallel_batch_fork_from_one_zygote(tmp_path):
    """With -j 2 both workers' kernels come from the one zygote the runner started (its imports are paid once),
    and it is gone when the batch ends."""
    folder = tmp_path / "nb"
    folder.mkdir()
    probe = _notebook(folder / "probe.ipynb", "import os\nprint('parent:', os.getppid())")
    jobs = [report.Job(name=f"probe{i}", notebook=probe) for i in range(3)]
    results = report.run_jobs(jobs, tmp_path / "out", workers=2, write_index=False)
    assert all(r.ok for r in results), [r.error for r in results]
    parents = {_stdout(r)["parent"] for r in results}
    assert len(parents) == 1
    assert _gone(int(parents.pop()))
