from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "failbrief.sources"
    label = "sources"
