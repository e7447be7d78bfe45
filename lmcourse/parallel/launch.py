"""Start `world_size` real torch.distributed processes on this machine and collect what each returns.

`spawn(fn, world_size)` is the course's stand-in for `torchrun` on a single node: the parent picks a
free port, starts one process per rank with the `spawn` start method (a fresh interpreter, as CUDA
requires), each child joins the process group and calls `fn(rank, world_size, *args)`, and the
parent returns the ranks' results in rank order. Communication is real (gloo on CPU, NCCL on GPUs);
nothing is simulated.

Starting processes costs seconds (each imports torch), so `spawn_each(calls)` runs several worker
functions one after the other in the same processes and process group.

Failure is loud and never hangs: an exception in any rank becomes a `RankError` carrying that rank's
traceback, a rank that exits without reporting is an error too, and a job that outlives `timeout`
raises `TimeoutError`; in every case the surviving children are killed before the parent raises.
A port that another program grabs between the parent choosing it and rank 0 listening on it (the
one race in picking a free port) is retried on a new port, twice.

Left out: multiple nodes (use `torchrun`; the worker functions only need `rank` and `world_size`),
elastic restarts, and sharing CUDA tensors between processes (results travel pickled by value).
"""

from __future__ import annotations

import pickle
import queue as queue_module
import socket
import sys
import time
import traceback

__all__ = ["spawn", "spawn_each", "RankError", "BACKENDS"]

BACKENDS = ("gloo", "nccl")


class RankError(RuntimeError):
    """A rank of a `spawn`ed job failed; `.rank` says which, the message holds its traceback."""

    def __init__(self, rank: int, details: str):
        super().__init__(f"rank {rank} failed:\n{details}")
        self.rank = rank
        self.details = details


def _check_backend(backend: str, world_size: int) -> None:
    import torch
    import torch.distributed as dist

    if backend not in BACKENDS:
        raise ValueError(f"spawn: backend={backend!r}; expected one of {BACKENDS}")
    if not dist.is_available():
        raise ValueError("spawn: this PyTorch build has no torch.distributed support")
    if backend == "gloo" and not dist.is_gloo_available():
        raise ValueError("spawn: backend='gloo' is not available in this PyTorch build")
    if backend == "nccl":
        if not dist.is_nccl_available() or not torch.cuda.is_available():
            raise ValueError("spawn: backend='nccl' needs CUDA and NCCL in this PyTorch; use 'gloo' on CPU")
        if torch.cuda.device_count() < world_size:
            raise ValueError(
                f"spawn: backend='nccl' with world_size={world_size} needs {world_size} GPUs; "
                f"this machine has {torch.cuda.device_count()}"
            )


def _check_function(fn) -> None:
    if not callable(fn):
        raise TypeError(f"spawn: fn={fn!r} is not callable")
    qualname = getattr(fn, "__qualname__", "")
    module = getattr(fn, "__module__", None)
    # The child process imports fn by module and name: lambdas, nested functions and functions
    # typed into a notebook (module __main__ without a file) cannot be found there.
    if "<" in qualname or module is None:
        raise TypeError(
            f"spawn: fn={qualname or fn!r} is a lambda or nested function; the worker must be a "
            "module-level function (each process imports it by name)"
        )
    if module == "__main__" and not hasattr(sys.modules["__main__"], "__file__"):
        raise TypeError(
            f"spawn: fn={qualname} is defined in an interactive session; put the worker in an importable "
            "module (e.g. lmcourse.parallel) so the processes can import it"
        )
    try:
        pickle.dumps(fn)
    except Exception as error:  # noqa: BLE001 - report any pickling failure the same way
        raise TypeError(f"spawn: fn={qualname} cannot be pickled by reference ({error})") from error


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child(rank, world_size, backend, port, fn, args, results, timeout):
    """Each process: join the group, call fn, report ("ok", pickled result) or ("error", traceback)."""
    import datetime
    import os

    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)  # ranks share the machine's cores; one thread each avoids oversubscription
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    try:
        if backend == "nccl":
            torch.cuda.set_device(rank % torch.cuda.device_count())
        dist.init_process_group(
            backend, rank=rank, world_size=world_size, timeout=datetime.timedelta(seconds=timeout)
        )
    except BaseException:  # noqa: BLE001 - e.g. the port was taken: the parent may retry
        results.put((rank, "setup", traceback.format_exc()))
        return
    try:
        value = fn(rank, world_size, *args)
        # Pickled by value here, so the parent never depends on this process's shared memory.
        results.put((rank, "ok", pickle.dumps(value)))
    except BaseException:  # noqa: BLE001 - everything a rank raises must reach the parent
        results.put((rank, "error", traceback.format_exc()))
        # Stay connected until the parent kills us: closing the group now would make the peers
        # fail with "connection reset" and race this traceback to the parent with a mere symptom.
        time.sleep(timeout)
        return
    dist.destroy_process_group()


def _stop(processes) -> None:
    started = [process for process in processes if process.pid is not None]
    for process in started:
        if process.is_alive():
            process.kill()
    for process in started:
        process.join(timeout=10)


def _died_silently(processes, received) -> int | None:
    """The first rank whose process ended badly without reporting (segfault, os._exit, killed)."""
    for rank, process in enumerate(processes):
        if rank not in received and process.exitcode not in (None, 0):
            return rank
    return None


class _PortTaken(RankError):
    """Another program took the free port between the parent choosing it and rank 0 listening on it."""


def spawn(fn, world_size: int = 2, *, args=(), backend: str = "gloo", timeout: float = 120.0) -> list:
    """Run `fn(rank, world_size, *args)` in `world_size` processes joined by torch.distributed.

    Returns the list of return values in rank order. Raises `RankError` if a rank raises or dies,
    `TimeoutError` after `timeout` seconds; either way no child is left running.
    """
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"spawn: world_size={world_size!r}; expected an int >= 1")
    if not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"spawn: timeout={timeout!r}; expected a positive number of seconds")
    if not isinstance(args, tuple):
        raise TypeError(f"spawn: args={args!r}; expected a tuple")
    _check_backend(backend, world_size)
    _check_function(fn)
    for attempt in range(3):
        try:
            return _run(fn, world_size, args, backend, timeout)
        except _PortTaken:
            if attempt == 2:
                raise


def _run(fn, world_size, args, backend, timeout) -> list:
    import torch.multiprocessing as mp

    context = mp.get_context("spawn")
    results = context.Queue()
    port = _free_port()
    processes = [
        context.Process(
            target=_child, args=(rank, world_size, backend, port, fn, args, results, timeout), daemon=True
        )
        for rank in range(world_size)
    ]
    received: dict[int, object] = {}
    deadline = time.monotonic() + timeout
    try:
        for process in processes:
            process.start()
        while len(received) < world_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = sorted(set(range(world_size)) - set(received))
                raise TimeoutError(f"spawn: ranks {missing} did not finish within timeout={timeout} s")
            try:
                rank, status, payload = results.get(timeout=min(remaining, 0.2))
            except queue_module.Empty:
                dead = _died_silently(processes, received)
                if dead is not None:
                    code = processes[dead].exitcode
                    raise RankError(dead, f"process exited with code {code} without a result")
                continue
            if status == "setup" and "address already in use" in payload.lower():
                raise _PortTaken(rank, payload)
            if status in ("error", "setup"):
                # A peer's death shows up in the survivors as a connection error; give the dead
                # process a moment to be noticed so the error names the cause, not the symptom.
                time.sleep(0.5)
                dead = _died_silently(processes, received)
                if dead is not None and dead != rank:
                    code = processes[dead].exitcode
                    then = f"; then rank {rank} failed:\n{payload}"
                    raise RankError(dead, f"process exited with code {code} without a result{then}")
                raise RankError(rank, payload)
            received[rank] = pickle.loads(payload)
    finally:
        _stop(processes)
        results.close()
    return [received[rank] for rank in range(world_size)]


def _run_in_turn(rank, world_size, calls):
    return [fn(rank, world_size, *args) for fn, args in calls]


def spawn_each(calls, world_size: int = 2, *, backend: str = "gloo", timeout: float = 120.0) -> list:
    """Run each (fn, args) of `calls` in turn in one set of processes; returns [per call: [per rank]].

    The same as `[spawn(fn, world_size, args=args) for fn, args in calls]`, paying the start-up once.
    """
    calls = list(calls)
    for call in calls:
        if not (isinstance(call, tuple) and len(call) == 2 and isinstance(call[1], tuple)):
            raise TypeError(f"spawn_each: calls contains {call!r}; expected (fn, args tuple) pairs")
        _check_function(call[0])
    per_rank = spawn(_run_in_turn, world_size, args=(calls,), backend=backend, timeout=timeout)
    return [[per_rank[rank][index] for rank in range(world_size)] for index in range(len(calls))]
