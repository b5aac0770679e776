"""
RSGI config for haoping project: granian's native interface (`granian --interface rsgi`).

Every request passes the gate first (haoping.gate). The common rating is then answered straight
from granian's protocol and stored in batches by one writer thread per process; everything else
goes to Django's ASGI application.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haoping.settings")

django_application = get_asgi_application()

from haoping.evaluations.fastpath import RsgiRatingFastPath, Writer  # noqa: E402  (needs the apps loaded)
from haoping.gate import RequestGate  # noqa: E402

application = RsgiRatingFastPath(django_application, writer=Writer(), gate=RequestGate())
# As in haoping.asgi: what is loaded by now lives as long as the process.
gc.freeze()
