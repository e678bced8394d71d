"""The officer's console: server-rendered pages on the node's own services.

Each page calls the same service functions as the command line, with the
officer signed in by password instead of named by ``--officer``; its texts come
from ``locales/`` (``console.po``) like every other word a node says.
"""
