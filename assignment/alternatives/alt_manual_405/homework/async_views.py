from asyncio import sleep

from django.conf import settings
from django.http import HttpResponseNotAllowed, JsonResponse


async def hello(request):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    await sleep(settings.ASYNC_DEMO_DELAY)
    return JsonResponse({"message": "This is an async view!"})
