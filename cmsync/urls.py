"""Root URLs: authentication, then each app's own urls."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("maintenance/", include("maintenance.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("sms/", include("sms.urls")),
    path("billing/", include("billing.urls")),
    path("", include("sync.urls")),
]
