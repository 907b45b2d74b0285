"""The three-site contract of test_apps.py (see site_wsgi.py) as a
single-file Django project: settings configured here, no database, the
WSGI handler from get_wsgi_application().  Django reads a request body by
CONTENT_LENGTH only (a chunked upload reads as empty, under gunicorn too),
so test_apps.py sends it Content-Length bodies."""
import json

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path

NAME = "django"

settings.configure(
    DEBUG=False,
    SECRET_KEY="unitcorn-tests-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    INSTALLED_APPS=[],
    DATABASES={},
    USE_TZ=True,
    APPEND_SLASH=False,
)


def index(request):
    return HttpResponse(f"hello from {NAME}", content_type="text/plain; charset=utf-8")


def as_json(request):
    return JsonResponse({"app": NAME, "args": request.GET.dict()})


def stream(request):
    n = int(request.GET.get("n", "3"))
    return StreamingHttpResponse((f"{i} of {n}\n" for i in range(n)), content_type="text/plain")


def write(request):
    return HttpResponse("written, then returned", content_type="text/plain")


def upload(request):
    if request.method != "POST":
        return HttpResponse(status=405)
    return HttpResponse(request.body, content_type="application/octet-stream")


def form(request):
    if request.method != "POST":
        return HttpResponse(status=405)
    return HttpResponse(json.dumps(request.POST.dict()), content_type="application/json")


def error(request):
    raise RuntimeError(f"{NAME} site failed on purpose")


urlpatterns = [
    path("", index),
    path("json", as_json),
    path("stream", stream),
    path("write", write),
    path("upload", upload),
    path("form", form),
    path("error", error),
]

application = get_wsgi_application()
