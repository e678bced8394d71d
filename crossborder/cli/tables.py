"""Lists an officer reads on a terminal, at whatever width it has."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table


def add_id_column(table: Table, header: str, ids: Iterable[str]) -> None:
    """A column of case ids, each whole on one line: the one thing an officer types next.

    The terminal's width is shared out among the other columns, which fold; this
    one is never cut with an ellipsis nor broken over two lines, whatever the
    language of the headers around it.
    """
    table.add_column(header, no_wrap=True, min_width=max((len(id_) for id_ in ids), default=0))
