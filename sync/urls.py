from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sync/runs/", views.run_list, name="sync-runs"),
    path("sync/runs/<int:run_id>/", views.run_detail, name="sync-run-detail"),
    path("sync/runs/<int:run_id>/progress/", views.run_progress, name="sync-run-progress"),
]
