"""The casework demo's distributions and texts: who consults, how, about what, how often.

Every weight is a relative frequency drawn with `Draw.pick`; the texts are obviously
synthetic (【デモ】). The benchmark generator borrows these tables too.
"""

from __future__ import annotations

from casework.models import Case, Channel, Consulter, Gender, Milestone, Topic
from casework.periods import AgeBand

CENTRE_CASES = 250
# 津市, 四日市市, 松阪市, 伊賀市: the larger windows, in different regions.
MUNICIPAL_WINDOWS = ("242012", "242021", "242047", "242161")
MUNICIPAL_CASES = 20
CONTACTS = 3000
ANONYMOUS_SHARE = 0.15
MILESTONE_CASES = 45
SECOND_MILESTONES = 15  # of those cases, this many reach a second milestone
RESTRICTED_CASES = 4
HISTORY_REASON = "デモデータ（seed_demo）"

# Approximate populations in thousands (2020 census, rounded), used only as weights so
# that residence follows where people live.
POPULATION = {
    "242012": 275,
    "242021": 305,
    "242039": 123,
    "242047": 159,
    "242055": 139,
    "242071": 196,
    "242080": 76,
    "242098": 16,
    "242101": 50,
    "242110": 18,
    "242128": 16,
    "242144": 45,
    "242152": 46,
    "242161": 90,
    "243035": 6,
    "243248": 26,
    "243418": 40,
    "243434": 11,
    "243442": 15,
    "244414": 14,
    "244422": 22,
    "244431": 9,
    "244619": 15,
    "244708": 8,
    "244716": 8,
    "244724": 11,
    "245437": 15,
    "245615": 8,
    "245623": 11,
}

CHANNELS = {
    Channel.PHONE: 40,
    Channel.CENTRE_VISIT: 22,
    Channel.HOME_VISIT: 15,
    Channel.EMAIL: 8,
    Channel.ONLINE: 7,
    Channel.ACCOMPANIMENT: 5,
}
# Most people first reach a centre by telephone; nobody is accompanied on day one.
FIRST_CHANNELS = {
    Channel.PHONE: 65,
    Channel.CENTRE_VISIT: 15,
    Channel.EMAIL: 12,
    Channel.ONLINE: 5,
    Channel.HOME_VISIT: 3,
}
ANONYMOUS_CHANNELS = {
    Channel.PHONE: 78,
    Channel.EMAIL: 12,
    Channel.CENTRE_VISIT: 6,
    Channel.ONLINE: 4,
}
# (shortest, longest, most usual) minutes; kept within 5–90. The tables of words and
# minutes are looked up by a choice's value (a plain string): keyed by `str` for mypy.
MINUTES: dict[str, tuple[int, int, int]] = {
    Channel.PHONE: (5, 60, 20),
    Channel.EMAIL: (5, 30, 10),
    Channel.CENTRE_VISIT: (30, 90, 60),
    Channel.HOME_VISIT: (30, 90, 60),
    Channel.ONLINE: (20, 90, 45),
    Channel.ACCOMPANIMENT: (45, 90, 90),
}

# The person who usually speaks for the case: parents far more often than anyone else.
CONSULTERS = {
    Consulter.PARENT: 52,
    Consulter.SELF: 25,
    Consulter.SIBLING: 11,
    Consulter.AGENCY: 7,
    Consulter.OTHER: 2,
    Consulter.OTHER_FAMILY: 1,
    Consulter.SPOUSE: 1,
}
# A case without a registered person is a family consulting on their own.
FAMILY_CONSULTERS = {
    Consulter.PARENT: 84,
    Consulter.SIBLING: 12,
    Consulter.OTHER_FAMILY: 2,
    Consulter.SPOUSE: 2,
}
ANONYMOUS_CONSULTERS = {
    Consulter.PARENT: 50,
    Consulter.SELF: 22,
    Consulter.SIBLING: 10,
    Consulter.AGENCY: 7,
    Consulter.OTHER: 5,
    Consulter.OTHER_FAMILY: 3,
}

# Ages of the people supported, 15 to 65: the national surveys find as many aged 40–64
# as aged 15–39.
AGE_RANGES = {(15, 19): 10, (20, 29): 25, (30, 39): 25, (40, 49): 20, (50, 59): 14, (60, 65): 6}
GENDERS = {Gender.MALE: 60, Gender.FEMALE: 36, Gender.OTHER: 1, Gender.UNKNOWN: 3}
ANONYMOUS_GENDERS = {Gender.MALE: 50, Gender.FEMALE: 30, Gender.UNKNOWN: 20}
ANONYMOUS_AGE_BANDS = {
    AgeBand.UNDER_20: 10,
    AgeBand.TWENTIES: 20,
    AgeBand.THIRTIES: 20,
    AgeBand.FORTIES: 15,
    AgeBand.FIFTIES: 10,
    AgeBand.SIXTY_PLUS: 5,
    AgeBand.UNKNOWN: 20,
}

# (band, years it implies at least, weight); a band is drawn only if the person is old
# enough to have been withdrawn that long since about the age of twelve.
WITHDRAWAL = [
    (Case.WithdrawalBand.UNDER_6M, 0, 8),
    (Case.WithdrawalBand.UNDER_1Y, 0, 10),
    (Case.WithdrawalBand.UNDER_3Y, 1, 22),
    (Case.WithdrawalBand.UNDER_5Y, 3, 15),
    (Case.WithdrawalBand.UNDER_10Y, 5, 17),
    (Case.WithdrawalBand.UNDER_20Y, 10, 12),
    (Case.WithdrawalBand.OVER_20Y, 20, 6),
    (Case.WithdrawalBand.UNKNOWN, 0, 10),
]
LONG_WITHDRAWAL = {
    Case.WithdrawalBand.UNDER_10Y,
    Case.WithdrawalBand.UNDER_20Y,
    Case.WithdrawalBand.OVER_20Y,
}
STATUSES = {Case.Status.ACTIVE: 45, Case.Status.MONITORING: 15, Case.Status.CLOSED: 40}
# "merged" is left out: it needs a case to merge into, which only merge_cases makes.
CLOSURE_REASONS = {
    Case.ClosureReason.GOAL_REACHED: 30,
    Case.ClosureReason.REFERRED: 25,
    Case.ClosureReason.LOST_CONTACT: 20,
    Case.ClosureReason.WISH: 12,
    Case.ClosureReason.MOVED: 7,
    Case.ClosureReason.OTHER: 5,
    Case.ClosureReason.DECEASED: 1,
}

TOPICS: dict[str, int] = {  # by value, as the tables of words
    Topic.DAILY_LIFE: 25,
    Topic.FAMILY: 25,
    Topic.HEALTH: 15,
    Topic.WORK: 12,
    Topic.IBASHO: 12,
    Topic.SCHOOL: 5,
    Topic.MONEY: 5,
    Topic.VIOLENCE: 2,
    Topic.OTHER: 3,
}
TOPIC_COUNTS = {1: 45, 2: 40, 3: 15}

MILESTONES = {
    Milestone.Kind.IBASHO: 20,
    Milestone.Kind.LEFT_HOME: 18,
    Milestone.Kind.MEDICAL_CARE: 12,
    Milestone.Kind.WELFARE_SERVICE: 10,
    Milestone.Kind.INTERMEDIATE_WORK: 8,
    Milestone.Kind.EMPLOYED: 8,
    Milestone.Kind.BACK_TO_SCHOOL: 5,
    Milestone.Kind.OTHER: 3,
}

MALE_NAMES = [
    ("太郎", "タロウ"),
    ("一郎", "イチロウ"),
    ("健太", "ケンタ"),
    ("翔太", "ショウタ"),
    ("大輔", "ダイスケ"),
    ("拓也", "タクヤ"),
    ("浩二", "コウジ"),
    ("隆", "タカシ"),
    ("悠斗", "ユウト"),
]
FEMALE_NAMES = [
    ("花子", "ハナコ"),
    ("陽子", "ヨウコ"),
    ("美咲", "ミサキ"),
    ("由美", "ユミ"),
    ("恵", "メグミ"),
    ("さくら", "サクラ"),
    ("直美", "ナオミ"),
]
NEUTRAL_NAMES = [("ひかる", "ヒカル"), ("あおい", "アオイ"), ("まこと", "マコト")]
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")

CHANNEL_WORDS: dict[str, str] = {
    Channel.PHONE: "電話相談",
    Channel.CENTRE_VISIT: "来所相談",
    Channel.HOME_VISIT: "家庭訪問",
    Channel.EMAIL: "メール相談",
    Channel.ONLINE: "オンライン面談",
    Channel.ACCOMPANIMENT: "同行支援",
}
CONSULTER_WORDS: dict[str, tuple[str, ...]] = {
    Consulter.PARENT: ("母親", "父親"),
    Consulter.SELF: ("本人",),
    Consulter.SIBLING: ("姉", "兄", "妹", "弟"),
    Consulter.SPOUSE: ("配偶者",),
    Consulter.OTHER_FAMILY: ("祖母", "叔父"),
    Consulter.AGENCY: ("市の福祉担当課", "保健所", "地域包括支援センター", "民生委員"),
    Consulter.OTHER: ("知人",),
}
TOPIC_NOTES: dict[str, tuple[str, ...]] = {
    Topic.DAILY_LIFE: (
        "昼夜逆転の生活が続いている。",
        "日中は自室で過ごすことが多い。",
        "起床時間が少しずつ早くなってきた。",
    ),
    Topic.FAMILY: (
        "親子の会話が減っているとのこと。",
        "父親との関係に緊張がある。",
        "家族の関わり方について助言した。",
    ),
    Topic.HEALTH: (
        "不眠の訴えがある。",
        "受診について話し合った。",
        "気分の落ち込みが続いている。",
    ),
    Topic.SCHOOL: ("不登校の経緯を聞き取った。", "通信制高校の情報を提供した。"),
    Topic.WORK: (
        "就労への不安を話された。",
        "サポートステーションの利用を検討中。",
        "短時間のアルバイトに関心がある。",
    ),
    Topic.MONEY: (
        "親の年金で暮らしており、将来の生活費が心配とのこと。",
        "生活困窮者自立支援制度について説明した。",
    ),
    Topic.IBASHO: ("居場所の見学を提案した。", "居場所のプログラムに参加した。"),
    Topic.VIOLENCE: ("家族への暴言があり、安全の確保について確認した。",),
    Topic.OTHER: ("近況を確認した。",),
}
CASE_NOTES = (
    "家族以外との交流がほとんどない。",
    "退職後から外出が減った。",
    "高校中退後から自宅で過ごしている。",
    "家族は本人への声かけに悩んでいる。",
    "通院歴あり、現在は中断している。",
)
FOLLOW_UPS = (
    "次回面談の日程を電話で確認する。",
    "家族教室の案内を送る。",
    "市の担当課と支援方針を共有する。",
    "受診同行の日程を調整する。",
    "居場所の見学日を調整する。",
    "本人宛ての手紙を送る。",
)
MILESTONE_NOTES = {
    Milestone.Kind.IBASHO: "居場所に月2回通うようになった。",
    Milestone.Kind.INTERMEDIATE_WORK: "中間的就労（軽作業）を週2日で開始。",
    Milestone.Kind.EMPLOYED: "短時間勤務で就職した。",
    Milestone.Kind.BACK_TO_SCHOOL: "通信制高校に入学した。",
    Milestone.Kind.MEDICAL_CARE: "精神科を受診し、通院を始めた。",
    Milestone.Kind.WELFARE_SERVICE: "就労継続支援B型の利用を開始。",
    Milestone.Kind.LEFT_HOME: "近所のコンビニまで一人で外出できた。",
    Milestone.Kind.OTHER: "家族以外の人と話せるようになった。",
}
