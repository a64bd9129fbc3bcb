"""mysite's settings plus the probe URLs, for tests/stack/django.sh (DJANGO_SETTINGS_MODULE)."""
from mysite.settings import *  # noqa: F401,F403 (the point is to take every setting as it is)

ROOT_URLCONF = "django_probe.urls"
# The admin login is checked on every upstream variant; the default PBKDF2 hasher would spend
# most of the test's CPU on password hashing, which is not what the test looks at.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
