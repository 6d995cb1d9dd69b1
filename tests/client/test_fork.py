"""A Client built before a fork opens its own connections in the child."""

from __future__ import annotations

import os

import pepperpy
from pepperpy.testing import FakeProviderServer


def test_child_gets_new_connections(client: pepperpy.Client, server: FakeProviderServer) -> None:
    assert client.complete("parent", model="local-chat").text == "echo: parent"
    parent_port = server.requests[-1].client_port
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the answer, never run pytest's teardown
        try:
            text = client.complete("child", model="local-chat").text
            os.write(write, text.encode())
        finally:
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    assert os.read(read, 100).decode() == "echo: child" and status == 0
    os.close(read)
    assert server.requests[-1].client_port != parent_port
    assert client.complete("parent again", model="local-chat").text == "echo: parent again"
