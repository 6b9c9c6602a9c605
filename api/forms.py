from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("用途"),
        max_length=100,
        help_text=_("どの連携に使うトークンかがわかる名前（例：市町村システム連携）。"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The limit is a setting, read when the form is made rather than at import.
        self.fields["days"] = forms.IntegerField(
            label=_("有効日数"),
            min_value=1,
            max_value=settings.API_TOKEN_MAX_DAYS,
            initial=30,
            help_text=_("期限を過ぎたトークンは使えなくなります。"),
        )
