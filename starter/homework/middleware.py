"""Part 5 — a middleware that works with sync and async views (10 points).

Django already uses ``TimingMiddleware`` (see ``MIDDLEWARE`` in
``config/settings.py``). As given, it only passes each request on. Make it

* both sync- and async-capable, so Django runs it without an adapter under
  ASGI (uvicorn) and WSGI alike, and
* add a ``Server-Timing: app;dur=<milliseconds>`` header to every response.

See INSTRUCTIONS.md, part 5.
"""


class TimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
