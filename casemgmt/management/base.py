"""The base of the project's management commands: what they do is audited as "system: <command>"."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from casemgmt import audit


class AuditedCommand(BaseCommand):
    """Events recorded while the command runs name it as their actor ("system: rotate_keys"), whether it was
    started from the shell, from cron or through ``call_command``."""

    def execute(self, *args, **options):
        name = self.__module__.rsplit(".", 1)[-1]
        with audit.actor_context(audit.Actor.system(name)):
            return super().execute(*args, **options)
