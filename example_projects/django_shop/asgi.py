"""The ASGI entry point uvicorn serves; each worker also starts its importer thread."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_projects.django_shop.settings")

from django.core.asgi import get_asgi_application

from example_projects.django_shop.importer import start_importer

application = get_asgi_application()
start_importer()
