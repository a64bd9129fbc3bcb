"""Test-only views the Django stack test (tests/stack/django.sh) mounts beside mysite's own URLs.

Copied into the test's private copy of examples/django; the example project itself has none of it.
"""
