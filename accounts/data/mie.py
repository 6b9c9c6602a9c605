"""Reference data of Mie prefecture (三重県) used by the demo seed.

It lists the prefecture's 29 municipalities (14 市 and 15 町; Mie has no 村) with their
全国地方公共団体コード (the 6-digit local government code, i.e. the 5-digit code followed by its
check digit) and the region (圏域) each one belongs to.

Regions follow Mie's usual five-area split (北勢・中勢・南勢志摩・伊賀・東紀州). The plan's
progress report names 北勢, 中勢 and 東紀州 for its family classes (家族教室), but it never
lists which municipalities each area covers. So the members here follow the prefecture's
general split: 中勢 = 津市, 松阪市 and 多気郡; 南勢志摩 = 伊勢・鳥羽・志摩 and 度会郡.

Each entry of ``MUNICIPALITIES`` is ``(code, name, kana, kind, region)``, where ``kind`` is
``"city"`` or ``"town"``, ``kana`` is the reading in hiragana, and ``region`` is one of
``REGIONS``.
"""

PREFECTURE = {"name": "三重県", "code": "240001"}

# Check digits are verified by tests/accounts/test_organisations.py with
# accounts.models.local_government_code_check_digit.

REGIONS = ["北勢", "中勢", "南勢志摩", "伊賀", "東紀州"]

MUNICIPALITIES = [
    # 市 (cities)
    ("242012", "津市", "つし", "city", "中勢"),
    ("242021", "四日市市", "よっかいちし", "city", "北勢"),
    ("242039", "伊勢市", "いせし", "city", "南勢志摩"),
    ("242047", "松阪市", "まつさかし", "city", "中勢"),
    ("242055", "桑名市", "くわなし", "city", "北勢"),
    ("242071", "鈴鹿市", "すずかし", "city", "北勢"),
    ("242080", "名張市", "なばりし", "city", "伊賀"),
    ("242098", "尾鷲市", "おわせし", "city", "東紀州"),
    ("242101", "亀山市", "かめやまし", "city", "北勢"),
    ("242110", "鳥羽市", "とばし", "city", "南勢志摩"),
    ("242128", "熊野市", "くまのし", "city", "東紀州"),
    ("242144", "いなべ市", "いなべし", "city", "北勢"),
    ("242152", "志摩市", "しまし", "city", "南勢志摩"),
    ("242161", "伊賀市", "いがし", "city", "伊賀"),
    # 町 (towns)
    ("243035", "木曽岬町", "きそさきちょう", "town", "北勢"),
    ("243248", "東員町", "とういんちょう", "town", "北勢"),
    ("243418", "菰野町", "こものちょう", "town", "北勢"),
    ("243434", "朝日町", "あさひちょう", "town", "北勢"),
    ("243442", "川越町", "かわごえちょう", "town", "北勢"),
    ("244414", "多気町", "たきちょう", "town", "中勢"),
    ("244422", "明和町", "めいわちょう", "town", "中勢"),
    ("244431", "大台町", "おおだいちょう", "town", "中勢"),
    ("244619", "玉城町", "たまきちょう", "town", "南勢志摩"),
    ("244708", "度会町", "わたらいちょう", "town", "南勢志摩"),
    ("244716", "大紀町", "たいきちょう", "town", "南勢志摩"),
    ("244724", "南伊勢町", "みなみいせちょう", "town", "南勢志摩"),
    ("245437", "紀北町", "きほくちょう", "town", "東紀州"),
    ("245615", "御浜町", "みはまちょう", "town", "東紀州"),
    ("245623", "紀宝町", "きほうちょう", "town", "東紀州"),
]
