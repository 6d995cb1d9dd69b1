from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("models", views.models),
    path("complete", views.complete),
    path("acomplete", views.acomplete),
    path("stream", views.stream),
]
