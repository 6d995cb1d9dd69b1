"""Settings: no database, no apps; pepperpy's options live in ``PEPPERPY``."""

from __future__ import annotations

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver").split(",")
ROOT_URLCONF = "django_project.urls"
WSGI_APPLICATION = "django_project.wsgi.application"
INSTALLED_APPS: list[str] = []
MIDDLEWARE = ["django_project.middleware.PepperpyErrorMiddleware"]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

PEPPERPY = {
    "MODEL": os.environ.get("PEPPERPY_MODEL", "gpt-4o-mini"),
    "CLIENT": {                    # pepperpy.Client(**CLIENT), built once per process
        "timeout": (5.0, 30.0),    # 5 s to connect, 30 s between bytes: below gunicorn's --timeout
        "max_retries": 1,          # a browser is waiting: fail fast rather than retry for a minute
        "pool_maxsize": 16,        # at least the threads per process (gunicorn --threads)
    },
}
