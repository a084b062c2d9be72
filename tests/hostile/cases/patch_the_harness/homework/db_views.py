"""Hostile: patches the grader's app side from inside the app: every request answers a
plausible task list, the heartbeat and the query log report a perfect run, and every
function is said to be a coroutine function."""

from grader.appside import evidence, facts, http, server


async def _answer(request):
    return {"status": 200, "headers": [["content-type", "application/json"]],
            "body": b'{"count": 1, "tasks": [{"id": 1, "title": "x", "done": false,'
                    b' "created_at": "2025-01-01T00:00:00+00:00"}]}'}


async def _perfect(self):
    return {"max_gap": 0.001, "ticks": 100, "loop_thread": 1, "query_count": 1,
            "query_threads": [2], "queries_on_loop": []}


async def _always(target):
    return {"found": True, "is_coroutine_function": True, "repr": "<function tasks>"}


http.asgi = _answer
server.http.asgi = _answer
evidence.Watch.stop = _perfect
facts.coroutine_function = _always
facts.FACTS["coroutine_function"] = _always


async def tasks(request):
    raise NotImplementedError("stub")
