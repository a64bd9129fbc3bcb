"""What Django received, as JSON, so the shell test can compare it with what curl sent."""
import hashlib
import time

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def body(request):
    # Read as a stream, as an upload handler would: no size cap, and the framing epserve chose
    # (CONTENT_LENGTH after a chunked upload) is what ends the stream.
    digest, length = hashlib.sha256(), 0
    while True:
        chunk = request.read(65536)
        if not chunk:
            break
        digest.update(chunk)
        length += len(chunk)
    return JsonResponse(
        {
            "length": length,
            "sha256": digest.hexdigest(),
            "content_length": request.META.get("CONTENT_LENGTH", ""),
            "transfer_encoding": request.META.get("HTTP_TRANSFER_ENCODING", ""),
        }
    )


@csrf_exempt
def form(request):
    value = request.POST.get("field", "")
    return JsonResponse(
        {
            "fields": len(request.POST),
            "length": len(value),
            "sha256": hashlib.sha256(value.encode()).hexdigest(),
        }
    )


def secure(request):
    return JsonResponse(
        {
            "is_secure": request.is_secure(),
            "scheme": request.scheme,
            "x_forwarded_proto": request.META.get("HTTP_X_FORWARDED_PROTO", ""),
            "absolute": request.build_absolute_uri("/polls/"),
        }
    )


def cookies(request):
    response = JsonResponse({"big": len(request.COOKIES.get("big", ""))})
    for name in ("first", "second", "third"):
        response.set_cookie(name, name + "-value", httponly=True)
    return response


def slow(request):
    seconds = min(float(request.GET.get("seconds", "3")), 10.0)
    time.sleep(seconds)
    return JsonResponse({"slept": seconds})
