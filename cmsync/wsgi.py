"""WSGI entry point (gunicorn cmsync.wsgi:application)."""

from django.core.wsgi import get_wsgi_application

from cmsync.startup import load_settings_or_exit

load_settings_or_exit()
application = get_wsgi_application()
