"""The deadline watcher: one short pass over the deadlines, run on a schedule.

No flow run waits for a deadline. Deadlines are rows (``crossborder.services
.deadlines``); this flow wakes every few minutes, takes the reminders and
escalations that have come due, and ends. Every running node also takes the
same steps every few seconds on its own (``crossborder/workers.py``): this flow is
the pass an operator sees in the Prefect UI, and the watcher of a database
whose node is not running. Serve it with the node's settings in the
environment::

    from flows.deadlines import watch_deadlines
    watch_deadlines.serve(name="deadline-watcher", interval=300)

(``python -m flows.deadlines`` does exactly that), or deploy it to a work pool
with ``watch_deadlines.deploy(..., interval=300)``. Several watchers at once are
safe: each step is taken once. The node it works on carries every workflow's
escalation steps (the composition root puts them there).
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from crossborder.services.deadlines import WatchResult, watch
from flows.runtime import current_node

#: Seconds between two passes of the scheduled watcher.
WATCH_INTERVAL = 300


@task(name="take-due-deadline-steps", cache_policy=NO_CACHE)
def take_due_steps(limit: int) -> WatchResult:
    return watch(current_node(), limit=limit)


@flow(name="watch-deadlines")
def watch_deadlines(limit: int = 100) -> WatchResult:
    """Send the reminders and escalate the deadlines that have come due since the last pass."""
    return take_due_steps(limit)


if __name__ == "__main__":
    watch_deadlines.serve(name="deadline-watcher", interval=WATCH_INTERVAL)
