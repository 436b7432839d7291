"""The shop's routes: the same paths and JSON as the FastAPI shop."""

from __future__ import annotations

from django.urls import path

from example_projects.django_shop import imports, orders, quote, views

urlpatterns = [
    path("health", views.health),
    path("payments", views.payments),
    path("catalog", views.catalog),
    path("orders/<str:order_id>/reserve", orders.reserve),
    path("orders/<str:order_id>", orders.order_stock),
    path("quote", quote.quote),
    path("imports", imports.start_import),
    path("imports/<str:import_id>", imports.import_status),
]
