from django.urls import path

from . import views

urlpatterns = [
    path("messages/", views.message_list, name="maintenance-messages"),
    path("support-codes/", views.support_code_list, name="maintenance-support-codes"),
    path("support-codes/<str:code>/", views.support_code_detail, name="maintenance-support-code"),
]

urlpatterns += [
    path("audit/", views.audit_log, name="maintenance-audit"),
]
