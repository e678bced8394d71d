"""Every workflow's handlers, loaded together.

Importing a workflow module registers its deadline hooks (``@on_overdue``);
every process that may run the deadline watcher — the node, the flow worker,
``crossborder deadlines watch`` — imports this module so no hook is missed.
"""

from crossborder.services import (
    alerts,
    certificate_of_origin,
    co_amendment,
    co_verification,
    non_compliance,
    quarantine,
    recognition,
)

WORKFLOW_MODULES = (
    certificate_of_origin,
    co_amendment,
    co_verification,
    quarantine,
    recognition,
    non_compliance,
    alerts,
)
