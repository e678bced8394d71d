"""Every workflow's handlers, loaded together.

Importing a workflow module registers its deadline hooks (``@on_overdue``);
every process that may run the deadline watcher — the node, the flow worker,
``crossborder deadlines watch`` — imports this module so no hook is missed.
"""

from crossborder.services import certificate_of_origin, co_amendment, co_verification

WORKFLOW_MODULES = (certificate_of_origin, co_amendment, co_verification)
