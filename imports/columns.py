"""What a column can be imported as: the target fields of each kind of import, the header
texts that name them in the centres' old spreadsheets, and how their cells are read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casework.forms import NOTE_MAX, SUMMARY_MAX
from casework.models import Case, Channel, Consulter, Contact, Gender, Topic

from . import values
from .models import ImportKind
from .sheets import Column, normalise_header


@dataclass(frozen=True)
class Target:
    key: str
    label: str | Promise
    synonyms: tuple[str, ...]
    convert: Callable[[Any], Any]
    required: bool = False
    identity: bool = False  # never shown in the preview
    # Cells naming a row elsewhere, resolved by the service against the database.
    lookup: str = ""  # "municipality", "user" or "case"


CHANNEL = values.Choice(
    Channel,
    {
        Channel.PHONE: ["電話", "電話相談", "tel"],
        Channel.CENTRE_VISIT: ["来所", "来所相談", "面接", "面談", "来談"],
        Channel.HOME_VISIT: ["訪問", "家庭訪問", "訪問相談", "アウトリーチ"],
        Channel.EMAIL: ["メール", "email", "e-mail", "電子メール"],
        Channel.ONLINE: ["オンライン", "web", "zoom", "ビデオ通話", "sns", "line"],
        Channel.ACCOMPANIMENT: ["同行", "同行支援"],
    },
)
CONSULTER = values.Choice(
    Consulter,
    {
        Consulter.SELF: ["本人", "当事者"],
        Consulter.PARENT: ["母", "父", "親", "両親", "母親", "父親", "保護者"],
        Consulter.SIBLING: ["兄", "姉", "弟", "妹", "きょうだい", "兄弟", "姉妹", "兄弟姉妹"],
        Consulter.SPOUSE: ["配偶者", "夫", "妻"],
        Consulter.OTHER_FAMILY: ["祖父母", "祖父", "祖母", "その他の家族", "親族", "家族"],
        Consulter.AGENCY: ["関係機関", "機関", "支援機関", "行政"],
    },
)
CONTACT_KIND = values.Choice(Contact.Kind, {Contact.Kind.FIRST: ["初回"]})
GENDER = values.Choice(
    Gender,
    {
        Gender.MALE: ["男", "男性", "m"],
        Gender.FEMALE: ["女", "女性", "f"],
        Gender.UNKNOWN: ["不明", "不詳", "未確認"],
    },
)
TOPICS = values.Topics(values.Choice(Topic, {Topic.SCHOOL: ["不登校", "就学"]}))
STATUS = values.Choice(
    Case.Status,
    {
        Case.Status.INTAKE: ["インテーク", "受付中", "新規"],
        Case.Status.ACTIVE: ["支援", "継続", "継続支援", "対応中"],
        Case.Status.MONITORING: ["見守り中", "経過観察"],
        Case.Status.CLOSED: ["終了", "支援終了", "終結済み"],
    },
)
CLOSURE_REASON = values.Choice(Case.ClosureReason)
WITHDRAWAL = values.Choice(
    Case.WithdrawalBand,
    {
        band: [str(label).replace("か月", suffix) for suffix in ("ヶ月", "カ月", "ケ月", "ヵ月")]
        for band, label in Case.WithdrawalBand.choices
        if "か月" in str(label)
    }
    | {Case.WithdrawalBand.UNKNOWN: ["不明", "不詳"]},
)

_CASE_REF = Target(
    "case_ref",
    _("ケース番号（C-で始まるコードまたは旧管理番号）"),
    ("ケース番号", "ケースNo", "ケースNo.", "ケース", "管理番号", "ケースコード", "番号"),
    values.text(64),
    lookup="case",
)
_GENDER = Target("gender", _("性別"), ("性別",), GENDER)
_MUNICIPALITY = Target(
    "municipality",
    _("居住市町村（名称または地方公共団体コード）"),
    ("居住地", "市町村", "居住市町村", "住所地", "お住まい"),
    values.text(100),
    lookup="municipality",
)

CONTACT_TARGETS: tuple[Target, ...] = (
    Target(
        "occurred_on",
        _("相談日（時刻を含んでもよい）"),
        ("相談日", "相談年月日", "日付", "年月日", "相談日時", "受付日"),
        values.date_or_datetime,
        required=True,
    ),
    Target("occurred_time", _("相談時刻"), ("時刻", "相談時刻", "開始時刻"), values.time_of_day),
    Target(
        "channel",
        _("相談方法"),
        ("相談方法", "対応方法", "手段", "相談手段", "方法", "相談形態"),
        CHANNEL,
        required=True,
    ),
    Target("consulter", _("相談者"), ("相談者", "相談者区分", "相談者の続柄", "続柄"), CONSULTER),
    Target("kind", _("新規／継続"), ("新規/継続", "新規継続", "新規・継続", "区分"), CONTACT_KIND),
    Target(
        "minutes",
        _("対応時間（分）"),
        ("対応時間", "時間(分)", "時間", "所要時間", "対応時間(分)", "相談時間"),
        values.minutes,
    ),
    _CASE_REF,
    Target("topics", _("相談内容の区分"), ("相談分類", "主訴", "内容区分", "相談区分"), TOPICS),
    Target(
        "summary",
        _("相談内容の記録"),
        ("相談内容", "内容", "記録", "相談記録", "概要"),
        values.text(SUMMARY_MAX),
    ),
    Target("follow_up", _("今後の対応"), ("今後の対応", "対応予定", "今後"), values.text(NOTE_MAX)),
    Target("follow_up_due", _("対応予定日"), ("対応予定日", "次回予定日"), values.date),
    Target("age_band", _("年代（匿名の相談）"), ("年代", "年齢", "年齢層"), values.age_band),
    _GENDER,
    _MUNICIPALITY,
    Target(
        "staff",
        _("対応職員（ユーザー名）"),
        ("対応職員", "対応者", "職員", "担当職員"),
        values.text(150),
        lookup="user",
    ),
)

CASE_TARGETS: tuple[Target, ...] = (
    Target(
        "case_ref",
        _("旧管理番号"),
        ("ケース番号", "ケースNo", "ケースNo.", "管理番号", "番号"),
        values.text(64),
    ),
    Target("name", _("氏名"), ("氏名", "名前", "本人氏名"), values.text(100), identity=True),
    Target(
        "name_kana",
        _("氏名（カナ）"),
        ("フリガナ", "ふりがな", "カナ", "氏名カナ", "かな"),
        values.text(100),
        identity=True,
    ),
    Target("birth_date", _("生年月日"), ("生年月日",), values.past_date, identity=True),
    Target(
        "phone",
        _("電話番号"),
        ("電話番号", "電話", "連絡先", "TEL"),
        values.text(30),
        identity=True,
    ),
    Target("address", _("住所"), ("住所",), values.text(300), identity=True),
    Target("notes", _("備考（当事者）"), ("備考",), values.text(NOTE_MAX), identity=True),
    _GENDER,
    _MUNICIPALITY,
    Target(
        "opened_on",
        _("受付日"),
        ("受付日", "受付年月日", "相談開始日", "開始日", "初回相談日"),
        values.past_date,
        required=True,
    ),
    Target("status", _("状態"), ("状態", "支援状況", "ステータス"), STATUS),
    Target("closed_on", _("終結日"), ("終結日", "終了日"), values.past_date),
    Target("closure_reason", _("終結理由"), ("終結理由", "終了理由"), CLOSURE_REASON),
    Target("withdrawal_band", _("ひきこもり期間"), ("ひきこもり期間", "期間"), WITHDRAWAL),
    Target("school_refusal_history", _("不登校経験"), ("不登校経験", "不登校歴"), values.flag),
    Target("suspected_mental_illness", _("精神疾患の疑い"), ("精神疾患の疑い",), values.flag),
    Target(
        "suspected_developmental_disability", _("発達障害の疑い"), ("発達障害の疑い",), values.flag
    ),
    Target(
        "employment_history", _("就労経験あり"), ("就労経験", "就労経験あり", "就労歴"), values.flag
    ),
    Target("household_8050", _("8050世帯"), ("8050世帯", "8050"), values.flag),
    Target("lives_alone", _("単身世帯"), ("単身世帯", "単身"), values.flag),
    Target(
        "summary",
        _("ケースの概要"),
        ("概要", "ケース概要", "主訴", "相談内容"),
        values.text(SUMMARY_MAX),
    ),
    Target(
        "lead_worker",
        _("担当者（ユーザー名）"),
        ("担当者", "担当", "担当職員"),
        values.text(150),
        lookup="user",
    ),
)

TARGETS: dict[str, tuple[Target, ...]] = {
    ImportKind.CONTACTS: CONTACT_TARGETS,
    ImportKind.CASES: CASE_TARGETS,
}


def targets(kind: str) -> dict[str, Target]:
    return {target.key: target for target in TARGETS[kind]}


def _synonym_index(kind: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for target in TARGETS[kind]:
        for word in (*target.synonyms, str(target.label)):
            index.setdefault(normalise_header(word), target.key)
    return index


def header_matcher(kind: str) -> Callable[[str], bool]:
    index = _synonym_index(kind)
    return lambda text: bool(text) and normalise_header(text) in index


def suggest(kind: str, columns: list[Column], saved: dict[str, str]) -> dict[str, str]:
    """{header: target} from the organisation's saved mapping first, then the synonyms;
    each target goes to one column at most (the first that claims it)."""
    valid = targets(kind)
    index = _synonym_index(kind)
    chosen: dict[str, str] = {}
    for column in columns:
        target = saved.get(column.header, "")
        if target in valid and target not in chosen.values():
            chosen[column.header] = target
    for column in columns:
        if column.header in chosen or column.header in saved:
            continue  # a column saved as "not imported" stays so
        for candidate in column.candidates:
            target = index.get(candidate, "")
            if target and target not in chosen.values():
                chosen[column.header] = target
                break
    return chosen
