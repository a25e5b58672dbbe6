from __future__ import annotations

from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "failbrief.pages"
    label = "pages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from failbrief.pages import run_facts

        run_facts.connect()
