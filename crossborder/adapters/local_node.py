"""Telling the node running on this host that its outbox has work.

An officer's command writes the message in the node's database; the running
node, which holds a live connection and an access token at the counterpart,
then delivers it within milliseconds instead of at its next poll. The standard
library's HTTP client keeps the command light: nothing else is sent here.
"""

from __future__ import annotations

import http.client

#: Where a node that listens on every interface is reached from its own host.
_ANY = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def wake_delivery(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a node answered on ``host:port``; False when none runs there."""
    connection = http.client.HTTPConnection(_ANY.get(host, host), port, timeout=timeout)
    try:
        connection.request("POST", "/local/outbox-wake")
        return connection.getresponse().status == 204
    except OSError:
        return False
    finally:
        connection.close()
