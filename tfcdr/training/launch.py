"""`launch_workers`: N worker processes on this host with `TF_CONFIG`, for `tfcdr launch`.

For local testing and single-host users only: each worker is the given
command with a `TF_CONFIG` naming all workers on 127.0.0.1 (free ports) and
its own index, which `MultiWorkerMirroredStrategy` reads. On a real
cluster the same `TF_CONFIG` is set by the cluster's scheduler (e.g. a
Kubernetes TFJob or Ray Train's `TensorflowTrainer`), not by this module.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

# Seconds a worker gets to exit after SIGTERM before it is killed.
STOP_GRACE_SECONDS = 10


def free_ports(count):
    """`count` distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tf_config(ports, index):
    """The `TF_CONFIG` JSON of worker `index` of a cluster of workers on 127.0.0.1 at `ports`."""
    return json.dumps(
        {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]}, "task": {"type": "worker", "index": index}}
    )


def _forward(stream, prefix, out, lock):
    for line in iter(stream.readline, ""):
        with lock:
            out.write(f"{prefix}{line}")
            out.flush()
    stream.close()


def _stop(processes):
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def launch_workers(command, workers, env=None, out=None, poll_seconds=0.2):
    """Runs `command` as `workers` processes of one `MultiWorkerMirroredStrategy` cluster.

    Each line a worker prints (stdout and stderr) is written to `out`
    prefixed `[worker k] `. When a worker fails the others are stopped
    (SIGTERM, then SIGKILL after `STOP_GRACE_SECONDS`): a collective op
    would otherwise wait for the failed worker forever.

    Args:
        command: argv list, e.g. `["tfcdr", "train", "--model", "mlp", "--strategy", "multi-worker"]`.
        workers: number of worker processes (>= 1).
        env: environment of the workers (default this process'); `TF_CONFIG` is set per worker.
        out: text stream for the workers' output (default `sys.stdout`).
        poll_seconds: how often the workers' states are checked.

    Returns:
        0 when every worker exited with 0, else the exit code of the first
        that failed (a negative code for a signal, as `subprocess` reports).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not command:
        raise ValueError("no command to launch")
    out = out or sys.stdout
    ports = free_ports(workers)
    lock = threading.Lock()
    processes, threads = [], []
    try:
        for index in range(workers):
            worker_env = dict(os.environ if env is None else env)
            worker_env["TF_CONFIG"] = tf_config(ports, index)
            process = subprocess.Popen(
                command,
                env=worker_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
            )
            processes.append(process)
            thread = threading.Thread(target=_forward, args=(process.stdout, f"[worker {index}] ", out, lock))
            thread.start()
            threads.append(thread)
        failed = None
        while failed is None and any(p.poll() is None for p in processes):
            failed = next((p for p in processes if p.poll() not in (None, 0)), None)
            time.sleep(poll_seconds)
        failed = failed or next((p for p in processes if p.returncode != 0), None)
        if failed is not None:
            with lock:
                out.write(f"[launch] worker {processes.index(failed)} exited with {failed.returncode}; stopping all\n")
        return 0 if failed is None else failed.returncode
    finally:
        _stop(processes)
        for thread in threads:
            thread.join()
