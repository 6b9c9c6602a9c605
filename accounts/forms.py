"""Forms of the accounts app."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    # One message for an unknown user and a wrong password: it must not tell them apart.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("ユーザー名またはパスワードが正しくありません。"),
        "inactive": _("ユーザー名またはパスワードが正しくありません。"),
    }


class PreferencesForm(forms.Form):
    """The user's own settings: for now, whether to receive the daily work-queue digest."""

    work_digest = forms.BooleanField(
        label=_("やることリストを毎朝メールで受け取る"),
        required=False,
        help_text=_(
            "期限が来ている作業の種類ごとの件数とケースコードだけをお送りします。"
            "氏名や記録の内容は含まれません。"
        ),
    )
