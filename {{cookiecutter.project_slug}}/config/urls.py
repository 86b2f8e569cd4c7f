"""URLs: the model API under /api/ (docs at /api/docs), the admin under /admin/."""

from django.contrib import admin
from django.urls import path

from {{ cookiecutter.package_name }}.serving.api import api

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
