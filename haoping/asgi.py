"""
ASGI config for haoping project: what `deploy/serve` serves (`granian --interface asgi`).

It exposes the ASGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/asgi/
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haoping.settings")

django_application = get_asgi_application()

from haoping.evaluations.fastpath import AsyncRatingFastPath, Writer  # noqa: E402  (needs the apps loaded)
from haoping.gate import RequestGate  # noqa: E402
from haoping.recordpath import AsyncRecordFastPath, RecordWriter  # noqa: E402

# Every request passes the gate first, before any of its body is read. The common rating and the
# common record registration are then answered on the event loop and stored in batches, each by
# one writer thread per process; everything else goes through Django.
application = RequestGate(
    AsyncRatingFastPath(AsyncRecordFastPath(django_application, writer=RecordWriter()), writer=Writer())
)
# What is loaded by now (settings, apps, models) lives as long as the process: keep it out of the
# collector's full passes, which otherwise stall a request that builds many objects (a province's
# ranking) by tens of milliseconds.
gc.freeze()
