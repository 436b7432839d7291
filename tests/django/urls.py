"""URLs for the middleware tests."""

from django.urls import path

from tests.django import views

urlpatterns = [
    path("charge", views.charge),
    path("acharge", views.acharge),
    path("plain", views.plain),
    path("aplain", views.aplain),
    path("fail", views.fail),
    path("unavailable", views.unavailable),
    path("stream", views.stream),
    path("exempt", views.exempt),
    path("required", views.required),
    path("arequired", views.arequired),
    path("scope", views.scope_info),
    path("ascope", views.ascope_info),
    path("orders/<int:order_id>", views.order),
    path("aorders/<int:order_id>", views.aorder),
]
