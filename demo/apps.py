from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo review (`manage.py seed_demo`): the last app of the pipeline, it may import
    every other app and none imports it."""

    name = "demo"
