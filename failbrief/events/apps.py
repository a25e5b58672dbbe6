from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "failbrief.events"
    label = "events"
