"""The trusted side of the split harness: pytest, the suites, and the client of the app.

Tests reach the student's project only through ``App`` (``client.py``): HTTP
requests, task calls, settings, the clock, facts and in-app evidence, all
over the channel to ``grader.appside``, which runs in the sandbox. This side
never imports an answer file; it alone holds the hidden tests and reaches
every verdict. The database is shared: fixture rows go in and results are
read back through the pristine models.
"""

# The plugins of the trusted pytest, as module paths (their pytest11 entry points), not
# package names: ``-p pytest_django`` would register the package, whose __init__ has no
# hooks. The runner names them to pytest and the fork server imports them ahead: one list.
PYTEST_PLUGINS = (
    "pytest_django.plugin",
    "pytest_asyncio.plugin",
    "pytest_timeout",
    "pytest_socket",
    "respx.plugin",
    "grader.judge.plugin",
    "grader.judge.fixtures",
)
