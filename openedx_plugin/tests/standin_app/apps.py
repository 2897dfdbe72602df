"""Stands in for edx-platform's plugins app: puts the stand-ins in place, then connects the plugin
receivers exactly as edx-platform does (edx-django-utils `connect_plugin_receivers`)."""

from django.apps import AppConfig


class StandinConfig(AppConfig):
    name = "tests.standin_app"
    label = "standin_app"

    def ready(self) -> None:
        from edx_django_utils.plugins import connect_plugin_receivers

        from tests import standins

        standins.install()
        connect_plugin_receivers("lms.djangoapp")
        connect_plugin_receivers("cms.djangoapp")
