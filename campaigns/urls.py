"""This app's screens arrive with their issues; its URLs are mounted already."""

urlpatterns: list = []
