from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "failbrief.orgs"
    label = "orgs"
