"""The serving app's URLs, for any site to mount under any prefix.

`path("ml/", include("{{ cookiecutter.package_name }}.serving.urls"))` serves /ml/predict, /ml/model, /ml/health, /ml/docs.
"""

from django.urls import path

from .api import api

# The views are named in the "api" namespace; ninja mounts one NinjaAPI once per process.
urlpatterns = [path("", api.urls)]
