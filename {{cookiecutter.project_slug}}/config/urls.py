"""URLs: the model API under /api/ (docs at /api/docs), the admin under /admin/; uploads in debug mode."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

admin.site.site_url = "/api/docs"  # the admin's "View site": this site's pages are its API's

urlpatterns = [
    path("api/", include("{{ cookiecutter.package_name }}.serving.urls")),  # as another site mounts it
    path("admin/", admin.site.urls),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),  # the records' images; nothing unless DEBUG
]
