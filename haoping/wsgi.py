"""
WSGI config for haoping project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haoping.settings")

django_application = get_wsgi_application()

from haoping.evaluations.fastpath import RatingFastPath, Writer  # noqa: E402  (needs the apps loaded)

# The common rating is answered before Django's request cycle, and stored in batches by one
# writer thread per process; everything else goes through Django.
application = RatingFastPath(django_application, writer=Writer())
# What is loaded by now (settings, apps, models) lives as long as the process: keep it out of the
# collector's full passes, which otherwise stall a request that builds many objects (a province's
# ranking) by tens of milliseconds.
gc.freeze()
