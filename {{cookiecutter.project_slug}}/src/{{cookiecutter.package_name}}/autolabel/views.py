"""An example page of your own site: an item's page with its "you may also like" box (templatetags/)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def item_page(request: HttpRequest, item: str) -> HttpResponse:
    """The page of one item: replace it with your product or article page, and keep the one tag line."""
    return render(request, "autolabel/item.html", {"item": item})
