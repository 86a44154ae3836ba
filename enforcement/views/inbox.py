"""The department liaison's calls inbox (placeholder while being written)."""

from django.http import HttpResponse


def inbox(request):
    return HttpResponse(status=501)


def inbox_call_action(request, pk, action):
    return HttpResponse(status=501)
