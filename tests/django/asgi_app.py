"""The ASGI app uvicorn serves in the multi-worker test (settings from the environment)."""

from __future__ import annotations

import os

from tests.django import settings as test_settings

test_settings.configure(os.environ["GOSCOPE_TEST_REDIS_URL"], os.environ["GOSCOPE_TEST_PREFIX"])

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
