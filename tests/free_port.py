"""A free TCP port on the loopback for a test's torch.distributed rendezvous (fixed ports collide when two test
runs share the machine)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
