"""Sandbox attack on whoever reads the grade: terminal escapes (clipboard write,
a link, a window title, clear screen) and a Markdown image beacon in the
feedback. Part: async_view."""


async def hello(request):
    raise RuntimeError(
        "\x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b]8;;http://evil.invalid/\x07click\x1b]8;;\x07"
        " \x1b]0;owned\x07 \x1b[2J\x1b[H \x9b31m ![beacon](http://beacon.invalid/p.png)"
    )
