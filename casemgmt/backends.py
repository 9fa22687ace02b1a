"""Authentication backend: Django's, loading the user with what every request reads next."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class MembershipBackend(ModelBackend):
    """``ModelBackend`` whose session lookup brings the membership and its organisation in the same query.

    Every signed-in request needs all three (the access policy's role, the scope of selectors, the audit
    actor): one query instead of three.
    """

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("membership__organisation").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
