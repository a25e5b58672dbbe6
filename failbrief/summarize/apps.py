from django.apps import AppConfig


class SummarizeConfig(AppConfig):
    name = "failbrief.summarize"
    label = "summarize"
