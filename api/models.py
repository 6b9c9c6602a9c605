"""API tokens: a user's credential for integrations, stored only as a digest.

A token acts as its user, under the same access matrix and object rules as the screens.
It is made in a signed-in session (with the second factor and a recent password where the
user's role needs them), shown once, valid for at most API_TOKEN_MAX_DAYS, and ends at once
when revoked or when its user is deactivated.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "hkt_"  # noqa: S105  (a marker that tells tokens apart, not a secret)


def digest(raw: str) -> str:
    """SHA-256 of the token: tokens carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self) -> ApiTokenQuerySet:
        return self.filter(
            revoked_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
        )


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("利用者"),
    )
    name = models.CharField(_("用途"), max_length=100)
    # The first characters, to tell tokens apart on screen; the rest exists only as digest.
    prefix = models.CharField(_("識別子"), max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("有効期限"))
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("無効化日時"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("APIトークン")
        verbose_name_plural = _("APIトークン")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"

    @classmethod
    def issue(cls, user, *, name: str, days: int) -> tuple[ApiToken, str]:
        """A new token for `user`; the raw value is returned once and never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            digest=digest(raw),
            expires_at=timezone.now() + datetime.timedelta(days=days),
        )
        return token, raw

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
