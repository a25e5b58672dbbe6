from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "failbrief.notify"
    label = "notify"
