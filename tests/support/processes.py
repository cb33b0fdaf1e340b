"""Servers started in their own process group (the app, Streamlit) and stopped with everything they started."""

from __future__ import annotations

import os
import signal
import subprocess

GRACE_S = 15


def stop_process_group(process: subprocess.Popen[bytes], grace_s: float = GRACE_S) -> None:
    """SIGTERM to the whole group (the app's sandbox receiver too), SIGKILL if it outlives `grace_s`."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
