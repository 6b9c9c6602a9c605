"""Forms read from a rendered page and submitted the way a browser submits them.

A test that posts a dict it wrote itself proves the view, not the page: a form that
renders without its fields still "works" in such a test. These helpers parse the HTML
(stdlib `html.parser`) and build the entry list as the HTML standard says a browser does
(checked boxes only, selected options, a single select's first option when none is
selected, disabled and nameless controls left out, the submit button's own name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Input types that are not data entry: they carry no value the user sees or edits.
NOT_ENTRY = {"hidden", "submit", "button", "reset", "image"}


@dataclass
class Control:
    tag: str  # input, select, textarea, button
    type: str
    name: str
    value: str = ""
    checked: bool = False
    disabled: bool = False
    multiple: bool = False
    options: list[tuple[str, bool, bool]] = field(default_factory=list)  # value, selected, disabled
    formaction: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def is_entry(self) -> bool:
        """A field a person fills in or chooses (not a hidden input or a button)."""
        return self.tag in ("select", "textarea") or (
            self.tag == "input" and self.type not in NOT_ENTRY
        )

    @property
    def is_submit(self) -> bool:
        return (self.tag == "button" and self.type == "submit") or (
            self.tag == "input" and self.type in ("submit", "image")
        )

    def selected(self) -> list[str]:
        chosen = [value for value, sel, _disabled in self.options if sel]
        if chosen or self.multiple:
            return chosen[: None if self.multiple else 1]
        enabled = [value for value, _sel, disabled in self.options if not disabled]
        return enabled[:1]  # a single select shows (and sends) its first option


@dataclass
class Form:
    method: str
    action: str | None
    controls: list[Control] = field(default_factory=list)

    def named(self, name: str) -> list[Control]:
        return [c for c in self.controls if c.name == name]

    @property
    def entry_fields(self) -> list[Control]:
        return [c for c in self.controls if c.is_entry and c.name]

    @property
    def hidden(self) -> dict[str, str]:
        return {c.name: c.value for c in self.controls if c.tag == "input" and c.type == "hidden"}

    def url(self, page_url: str) -> str:
        """The address the form posts to; no action (or an empty one) is the page itself."""
        submitter = self.submitter()
        action = submitter.formaction if submitter and submitter.formaction else self.action
        return urljoin(page_url, action or page_url)

    def submitter(self) -> Control | None:
        return next((c for c in self.controls if c.is_submit and not c.disabled), None)

    def entries(self, changes: dict[str, str | list[str]] | None = None) -> dict[str, list[str]]:
        """What the browser sends when the first submit button is pressed, after the
        person set the fields named in `changes` (a list ticks exactly those boxes or
        selects exactly those options)."""
        data: dict[str, list[str]] = {}
        changes = changes or {}
        for control in self.controls:
            if control.disabled or not control.name:
                continue
            if control.name in changes:
                continue
            if control.is_submit:
                continue
            if control.tag == "select":
                values = control.selected()
            elif control.tag == "input" and control.type in ("checkbox", "radio"):
                values = [control.value or "on"] if control.checked else []
            elif control.tag == "input" and control.type in ("file", "reset", "button"):
                values = []
            else:
                values = [control.value]
            if values:
                data.setdefault(control.name, []).extend(values)
        for name, value in changes.items():
            values = value if isinstance(value, list) else [value]
            if values:
                data[name] = list(values)
        submitter = self.submitter()
        if submitter is not None and submitter.name:
            data.setdefault(submitter.name, []).append(submitter.value)
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Control | None = None
        self._option: list | None = None  # [value or None, selected, disabled, text]
        self._textarea: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(method=a.get("method", "get").lower(), action=a.get("action"))
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input":
            self._form.controls.append(
                Control(
                    tag="input",
                    type=a.get("type", "text").lower(),
                    name=a.get("name", ""),
                    value=a.get("value", ""),
                    checked="checked" in a,
                    disabled="disabled" in a,
                    formaction=a.get("formaction"),
                    attrs=a,
                )
            )
        elif tag == "button":
            self._form.controls.append(
                Control(
                    tag="button",
                    type=a.get("type", "submit").lower(),
                    name=a.get("name", ""),
                    value=a.get("value", ""),
                    disabled="disabled" in a,
                    formaction=a.get("formaction"),
                )
            )
        elif tag == "select":
            self._select = Control(
                tag="select",
                type="select",
                name=a.get("name", ""),
                disabled="disabled" in a,
                multiple="multiple" in a,
                attrs=a,
            )
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._close_option()
            self._option = [a.get("value"), "selected" in a, "disabled" in a, ""]
        elif tag == "textarea":
            self._textarea = Control(
                tag="textarea",
                type="textarea",
                name=a.get("name", ""),
                disabled="disabled" in a,
                attrs=a,
            )
            self._form.controls.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[3] += data
        elif self._textarea is not None:
            self._textarea.value += data

    def _close_option(self) -> None:
        if self._option is not None and self._select is not None:
            value, selected, disabled, text = self._option
            self._select.options.append(
                (value if value is not None else text.strip(), selected, disabled)
            )
        self._option = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._close_option()
        elif tag == "select":
            self._close_option()
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # The HTML parser drops one newline right after <textarea>.
            if self._textarea.value.startswith("\n"):
                self._textarea.value = self._textarea.value[1:]
            self._textarea = None
        elif tag == "form":
            self._form = None


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def post_forms(html: str) -> list[Form]:
    return [f for f in parse_forms(html) if f.method == "post"]


def form_posting_to(html: str, page_url: str, url: str) -> Form:
    """The one POST form on the page whose action is `url` (a path)."""
    found = [f for f in post_forms(html) if urlsplit(f.url(page_url)).path == url]
    assert len(found) == 1, f"{len(found)} forms post to {url}"
    return found[0]


def submit(client, form: Form, page_url: str, changes=None):
    """Post the form as the browser would, from the page at `page_url`."""
    target = form.url(page_url)
    split = urlsplit(target)
    path = split.path + (f"?{split.query}" if split.query else "")
    return client.post(path, form.entries(changes))
