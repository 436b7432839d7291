"""The Django shop: ``uvicorn example_projects.django_shop.asgi:application --workers 2``."""
