"""URLs: the model API under /api/ (docs at /api/docs), Prometheus metrics at /metrics, the admin; uploads in debug."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

{% if cookiecutter.__kind == "recommend" -%}
from {{ cookiecutter.package_name }}.autolabel.views import item_page
{% endif -%}
from {{ cookiecutter.package_name }}.serving.metrics import metrics_view

admin.site.site_url = "/api/docs"  # the admin's "View site": this site's pages are its API's

urlpatterns = [
    path("api/", include("{{ cookiecutter.package_name }}.serving.urls")),  # as another site mounts it
    path("metrics", metrics_view, name="metrics"),  # where Prometheus looks by default
    path("admin/", admin.site.urls),
{%- if cookiecutter.__kind == "recommend" %}
    path("items/<str:item>/", item_page, name="item"),  # an example page with "you may also like" (a recommender)
{%- endif %}
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),  # the records' images; nothing unless DEBUG
]
