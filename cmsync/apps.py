from django.apps import AppConfig


class CmsyncConfig(AppConfig):
    name = "cmsync"
    verbose_name = "cmsync console"
