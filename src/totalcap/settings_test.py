"""Settings for the test suite: the embedded server by default, the machine's PostgreSQL when
``TOTALCAP_TEST_DATABASE_URL`` is set; a fast password hasher; lockout off unless a test turns it on."""

import os

import dj_database_url

from totalcap.settings import *  # noqa: F403
from totalcap.settings import DATABASES

TESTING = True
if os.environ.get("TOTALCAP_TEST_DATABASE_URL"):
    DATABASES["default"] = dj_database_url.parse(os.environ["TOTALCAP_TEST_DATABASE_URL"])
# Several suites may run at once on one server (developers, CI, helpers): name the test database.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TOTALCAP_TEST_DB_NAME", "test_totalcap")}
DATABASES["default"]["CONN_MAX_AGE"] = 0

# Argon2 stays the production hasher (see tests/accounts/test_passwords.py); tests use MD5 for speed.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AXES_ENABLED = False
ALLOWED_HOSTS = ["*"]
