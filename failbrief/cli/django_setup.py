"""Commands that touch the database set Django up lazily, so `failbrief condense` stays Django-free."""

from __future__ import annotations

import os

import click


def setup_django() -> None:
    """Configure Django; a bad setting becomes one clear line and exit status 1."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failbrief.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)
