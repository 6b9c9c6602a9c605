"""The audit event: append-only and hash-chained.

`audit` imports none of the domain apps: an event names its actor, organisation and object
by id and pseudonymous reference, never through foreign keys, so the trail outlives the
rows it speaks of and never holds decrypted content.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64
OBJECT_REF_MAX = 100


class Action(models.TextChoices):
    LOGIN = "login", _("ログイン")
    LOGIN_FAILED = "login_failed", _("ログイン失敗")
    LOGOUT = "logout", _("ログアウト")
    LOCKOUT = "lockout", _("ログインのロック")
    UNLOCK = "unlock", _("ロック解除")
    IDENTITY_REVEAL = "identity_reveal", _("個人情報の表示")
    VIEW = "view", _("閲覧")
    CREATE = "create", _("作成")
    UPDATE = "update", _("更新")
    DELETE = "delete", _("削除")
    EXPORT = "export", _("エクスポート")
    IMPORT = "import", _("インポート")
    PERMISSION_DENIED = "permission_denied", _("アクセス拒否")
    BREAK_GLASS = "break_glass", _("緊急アクセス")
    KEY_ROTATION = "key_rotation", _("鍵の更新")
    ERASURE = "erasure", _("消去（暗号鍵破棄）")
    # Second round: security-relevant actions with an action of their own, so that a
    # reviewer can filter for them (docs/security.md).
    PASSWORD_CHANGE = "password_change", _("パスワード変更")
    PASSWORD_RESET = "password_reset", _("パスワードの再設定（他者による）")
    FACTOR_ENROL = "factor_enrol", _("二要素認証の登録")
    FACTOR_REPLACE = "factor_replace", _("二要素認証の置き換え")
    FACTOR_RESET = "factor_reset", _("二要素認証のリセット（他者による）")
    ADMIN_CHANGE = "admin_change", _("管理画面での変更")
    APPROVAL_REQUEST = "approval_request", _("承認の依頼")
    APPROVAL_DECISION = "approval_decision", _("承認・却下")
    TOKEN_REVOKE = "token_revoke", _("APIトークンの失効")
    NOTICE = "notice", _("通知")


class Event(models.Model):
    seq = models.PositiveBigIntegerField(_("通番"), unique=True, editable=False)
    occurred_at = models.DateTimeField(_("日時"), editable=False)
    action = models.CharField(_("操作"), max_length=32, choices=Action.choices)
    actor_id = models.BigIntegerField(_("操作者ID"), null=True)
    actor_label = models.CharField(_("操作者"), max_length=150, blank=True)
    organisation_id = models.BigIntegerField(_("組織ID"), null=True)
    object_type = models.CharField(_("対象種別"), max_length=100, blank=True)
    object_ref = models.CharField(_("対象"), max_length=OBJECT_REF_MAX, blank=True)
    detail = models.JSONField(_("詳細"), default=dict, blank=True)
    request_id = models.CharField(_("リクエストID"), max_length=32, blank=True)
    source_ip = models.GenericIPAddressField(_("接続元"), null=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    # Nothing looks an event up by its hash (the chain is walked by seq), so no index.
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("監査イベント")
        verbose_name_plural = _("監査イベント")
        default_permissions = ("view",)
        permissions = [
            ("verify_chain", _("監査証跡の改ざん検証ができる")),
            ("review_access", _("アクセス状況をレビューできる")),
        ]
        indexes = [
            models.Index(fields=["object_type", "object_ref"]),
            models.Index(fields=["actor_id", "occurred_at"]),
            models.Index(fields=["action", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_ref}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> None:
        raise PermissionError("Audit events are append-only.")

    def canonical(self) -> bytes:
        """The exact bytes the hash covers: every field but the hash itself."""
        payload = {
            "seq": self.seq,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "action": self.action,
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "organisation_id": self.organisation_id,
            "object_type": self.object_type,
            "object_ref": self.object_ref,
            "detail": self.detail,
            "request_id": self.request_id,
            "source_ip": self.source_ip,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(
            payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()
