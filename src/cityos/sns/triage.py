"""Triage of disaster-time posts: what each is (category), how urgent, which hazard, where.

Cues are words and patterns in Japanese and English, each with a weight and the category it
speaks for; a post's category is the one its cues weigh most for, with ties going to the more
urgent. Questions are questions unless someone asks for rescue or supplies; a post without a
cue is not relevant. Every decision names the words that made it (``explanation``), so that
staff can see why and correct it. No model is downloaded: the lexicon lives here.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cityos.core import perceptron, text
from cityos.sns import second_stage
from cityos.sns.gazetteer import Gazetteer, Outside, Place

CATEGORIES = (
    "rescue_request",
    "damage_report",
    "supplies_need",
    "infrastructure",
    "shelter_evacuation",
    "info_request",
    "caution_advice",
    "not_relevant",
)
URGENCIES = ("high", "medium", "low")
HAZARDS = ("flood", "earthquake", "fire", "landslide", "storm", "other", "none")
PRIORITY = {name: len(CATEGORIES) - i for i, name in enumerate(CATEGORIES)}

# (category, weight, Japanese words or patterns); matched on text.search_key (hiragana, no spaces).
_JA: list[tuple[str, float, list[str]]] = [
    (
        "rescue_request",
        3.0,
        [
            "助けて",
            "たすけて",
            "救助",
            "救出",
            "閉じ込め",
            "とじこめ",
            "取り残",
            "逃げられな",
            "逃げられません",
            "逃げ遅れ",
            "動けな",
            "動けません",
            "身動きが",
            "出られな",
            "出られません",
            "孤立して",
            "流され",
            "挟まれ",
            "下敷き",
            "生き埋め",
            "意識がない",
            "意識不明",
            "息をしていない",
            "呼吸が",
            "救急車",
            "けが人",
            "怪我人",
            "ケガ人",
            "出血",
            "骨折",
            "助けに来",
            "sos",
            "🆘",
            "#救助",
            "要救助",
            "救助要請",
            "助けを",
            "溺れて",
            "おぼれて",
        ],
    ),
    (
        "rescue_request",
        2.0,
        [
            r"(祖母|祖父|おばあ|おじい|ばあちゃん|じいちゃん|高齢|老人|母|父|子ども|子供|こども|赤ちゃん|妊婦|家族|夫|妻|障害|車いす|車椅子|寝たきり).{0,25}(動けな|動けません|歩けな|歩けません|上げられな|上げられません|逃げ|取り残|避難できな|避難できません|運べな|運べません|連れ出せな|連れ出せません|出られな|出られません|助け)",
            r"(水|みず).{0,6}(腰|胸|首|膝|ひざ|天井).{0,4}(まで|くらい|ぐらい)",
            r"(屋根の上|二階に|2階に).{0,12}(避難|逃げ|取り残|いる|います|待って)",
            "避難できな",
            "避難できません",
            "歩けな",
            "歩けません",
            "連れ出せな",
            "連れ出せません",
        ],
    ),
    (
        "damage_report",
        2.0,
        [
            "冠水",
            "浸水",
            "水没",
            "氾濫",
            "はんらん",
            "決壊",
            "越水",
            "溢れ",
            "あふれ",
            "水浸し",
            "倒壊",
            "崩れ",
            "崩壊",
            "土砂",
            "がけ崩れ",
            "崖崩れ",
            "地すべり",
            "地滑り",
            "陥没",
            "倒木",
            "木が倒れ",
            "電柱が倒れ",
            "電柱倒",
            "ブロック塀",
            "塀が倒れ",
            "火事",
            "火災",
            "燃えて",
            "燃えてる",
            "煙が",
            "炎",
            "延焼",
            "屋根が飛",
            "ガラスが割れ",
            "傾いて",
            "亀裂",
            "液状化",
            "床上",
            "床下",
            "水が入って",
            "水が入ってき",
            "家が流",
            "車が流",
            "道路が川",
            "川みたい",
            "落下",
            "看板が",
            "瓦が",
            "ひびが",
            "ヒビ",
        ],
    ),
    ("damage_report", 1.0, ["増水", "水位", "水たまり", "倒れて", "割れて", "壊れ", "被害"]),
    (
        "infrastructure",
        2.5,
        [
            "停電",
            "断水",
            "通信障害",
            "運転見合わせ",
            "運休",
            "通行止め",
            "ガス漏れ",
            "ガスが止",
            "ガスが出",
            "電気が",
            "電気がつかな",
            "電気がつきま",
            "電気来",
            "水が出な",
            "水が出ま",
            "水道が",
            "つながらな",
            "つながりま",
            "繋がらな",
            "繋がりま",
            "圏外",
            "電波",
            "信号が",
            "信号機",
            "見合わせ",
            "止まって",
            "止まってる",
            "不通",
            "復旧",
            "遅延",
            "振替輸送",
        ],
    ),
    (
        "infrastructure",
        1.0,
        [
            "中央線",
            "京王線",
            "井の頭線",
            "電車",
            "バス",
            "道路",
            "交差点",
            "エレベーター",
            "携帯",
            "スマホ",
            "ネット",
            "wifi",
            "ガス",
            "電気",
            "水道",
        ],
    ),
    (
        "supplies_need",
        2.5,
        [
            r"(水|飲み水|飲料水|食料|食べ物|食糧|ご飯|ごはん|おにぎり|パン|ミルク|粉ミルク|液体ミルク|おむつ|オムツ|紙おむつ|生理用品|ナプキン|薬|くすり|常備薬|インスリン|毛布|タオル|懐中電灯|ライト|電池|充電器|モバイルバッテリー|トイレ|簡易トイレ|離乳食|アレルギー|マスク|ブルーシート|ほ乳瓶|哺乳瓶|カイロ|水分|物資).{0,12}(足り|不足|欲し|ほし|ください|下さい|必要|ない|無い|ありません|なくな|無くな|切れ|尽き|届いて|届かない|配って|分けて|ある方|あれば|送って|求む|募集|困って)",
            r"(足りな|足りま|不足|必要|欲しい|ほしい).{0,10}(水|食料|食べ物|ミルク|おむつ|オムツ|薬|毛布|電池|トイレ|物資)",
            "物資が",
            "支援物資",
            "品切れ",
            "売り切れ",
            "買えない",
        ],
    ),
    (
        "shelter_evacuation",
        2.0,
        [
            "避難所",
            "避難しました",
            "避難して",
            "避難中",
            "避難した",
            "避難者",
            "体育館",
            "公民館",
            "コミセン",
            "コミュニティセンター",
            "コミュニティ・センター",
            "開設",
            "混雑",
            "満員",
            "受け入れ",
            "ペット同伴",
            "避難完了",
            "避難します",
            "避難する",
            "避難先",
            "避難所に",
            "車中泊",
            "寝る場所",
            "収容",
        ],
    ),
    (
        "caution_advice",
        2.0,
        [
            "気象庁",
            "警報",
            "注意報",
            "避難指示",
            "高齢者等避難",
            "緊急安全確保",
            "警戒レベル",
            "注意して",
            "気をつけて",
            "気を付けて",
            "近づかないで",
            "近づかない",
            "控えて",
            "ブレーカー",
            "落として",
            "備えて",
            "確認してください",
            "防災無線",
            "防災メール",
            "お知らせ",
            "【三鷹市】",
            "三鷹市より",
            "市からの",
            "公式",
            "記録的短時間大雨",
            "土砂災害警戒",
            "余震に注意",
            "しないでください",
            "してください",
            "心がけて",
            "命を守る",
            "早めの避難",
            "情報です",
            "発表",
            "発令",
            "解除",
        ],
    ),
    (
        "info_request",
        1.5,
        [
            "教えて",
            "知りたい",
            "分かる方",
            "わかる方",
            "分かる人",
            "わかる人",
            "どなたか",
            "情報ありますか",
            "情報ください",
            "どこですか",
            "どこ?",
            "誰か知",
            "ご存知",
            r"いつ(から|まで|頃|ごろ|復旧|開|再開)",
            "ですか?",
            "ますか?",
            "でしょうか",
            "かな?",
            "?",
        ],
    ),
    (
        "not_relevant",
        2.0,
        [
            "祈って",
            "祈り",
            "無事を",
            "ご無事",
            "がんばろう",
            "頑張ろう",
            "頑張って",
            "がんばって",
            "応援して",
            "お疲れ",
            "宿題",
            "試験",
            "ランチ",
            "推し",
            "www",
            "笑",
            "草",
            "ワロタ",
            "ポケモン",
            "ゲーム",
            "セール",
            "キャンペーン",
            "フォロー",
            "プレゼント",
            "ニュースで見",
            "テレビで",
            "懐かしい",
            "眠い",
            "暇",
            "ひま",
            "映画",
            "ドラマ",
            "仕事行きたくない",
            "お大事に",
        ],
    ),
]

# Second-round cues: polite and everyday ways of saying the same things.
_JA += [
    (
        "rescue_request",
        3.0,
        [
            "迎えに来",
            "男手",
            "上がれな",
            "上げきれな",
            "運び出せ",
            "けいれん",
            "痙攣",
            "医療関係の方",
            "aed",
            "心臓マッサージ",
            "倒れている人",
            "倒れてる人",
            "意識が",
            "呼んだけど",
            "つながらない119",
            "救急",
        ],
    ),
    (
        "rescue_request",
        2.0,
        [
            r"(どなたか|誰か|だれか).{0,10}(お願い|来て|助け|行って)",
            r"(水|みず).{0,10}(布団|ふとん|ベッド|床上|胸|首).{0,8}(来て|まで)",
        ],
    ),
    (
        "damage_report",
        2.0,
        [
            "マンホール",
            "浸か",
            "水が来",
            "水がきて",
            "水が溢",
            "折れ",
            "飛んで",
            "飛ばされ",
            "水びたし",
            "川になって",
            "池みたい",
            "湖みたい",
            "泥",
            "冠水中",
            "崩落",
            "落石",
            "陥没",
            "漏水",
            "雨漏り",
            "窓が割れ",
            "屋根",
            "外壁",
            "枝が",
        ],
    ),
    (
        "caution_advice",
        3.0,
        [
            r"^【",
            r"ないで(ください|下さい|ね|!|。|$)",
            "ましょう",
            "やめて",
            "控え",
            "注意して",
            "注意を",
            "入らないで",
            "行かないで",
            "避難してください",
            "してください",
            "迂回",
            "気象情報",
            "最新情報",
            "確認を",
            "ように",
        ],
    ),
    ("caution_advice", 1.0, ["気をつけて", "気を付けて", "危ない", "危険"]),
    (
        "shelter_evacuation",
        2.0,
        [
            "に避難",
            "へ避難",
            "避難所",
            "避難呼びかけ",
            "避難を呼びかけ",
            "小学校",
            "中学校",
            "小に",
            "中に避難",
            "避難所ができ",
            "避難所が開",
            "避難の準備",
            "避難準備",
        ],
    ),
    (
        "supplies_need",
        2.5,
        [
            r"(ペットフード|食べるもの|食べる物|飲み物|飲むもの|お湯|粉ミルク|ミルク|おむつ|薬|毛布|トイレ).{0,10}(ない|無い|だけ|少な|足り|なく|切れ|欲し|ほし)",
            "お腹すい",
            "おなかすい",
            "お腹が空",
            "空腹",
        ],
    ),
    ("not_relevant", 3.0, ["募金", "義援金", "寄付", "海外", "外国の", "昔の", "去年の", "映画"]),
]


_EN: list[tuple[str, float, list[str]]] = [
    (
        "rescue_request",
        3.0,
        [
            "help us",
            "please help",
            "help me",
            "need help",
            "trapped",
            "can't get out",
            "cannot get out",
            "rescue",
            "injured",
            "bleeding",
            "unconscious",
            "ambulance",
            "can't walk",
            "cannot walk",
            "can't move",
            "sos",
            "drowning",
            "save us",
            "stranded",
            "need rescue",
            "send help",
            "not breathing",
            "broken leg",
            "elderly.{0,20}(can't|cannot)",
        ],
    ),
    (
        "rescue_request",
        2.0,
        [
            r"water.{0,20}(waist|chest|knee|neck)",
            r"(on the roof|second floor|2nd floor).{0,30}(water|flood|help|stuck)",
        ],
    ),
    (
        "damage_report",
        2.0,
        [
            "flooded",
            "flooding",
            "flood water",
            "underwater",
            "submerged",
            "collapsed",
            "collapse",
            "fire",
            "smoke",
            "burning",
            "landslide",
            "mudslide",
            "fallen tree",
            "tree fell",
            "trees down",
            "sinkhole",
            "caved in",
            "damaged",
            "overflow",
            "overflowing",
            "burst",
            "pole fell",
            "utility pole",
            "wall fell",
            "broken windows",
            "cracks",
            "water came in",
            "water is coming",
            "water coming",
        ],
    ),
    (
        "infrastructure",
        2.5,
        [
            "power outage",
            "blackout",
            "no power",
            "no electricity",
            "power is out",
            "power's out",
            "no water",
            "water supply",
            "gas leak",
            "no gas",
            "no signal",
            "can't connect",
            "network down",
            "trains stopped",
            "train stopped",
            "suspended",
            "chuo line",
            "keio line",
            "bus",
            "buses",
            "road closed",
            "road is closed",
            "closed road",
            "traffic lights",
            "internet down",
        ],
    ),
    (
        "supplies_need",
        2.5,
        [
            r"(need|needs|needed|short of|running out of|ran out of|out of|no more|looking for|anyone have)\b.{0,30}\b(water|food|milk|formula|diapers|nappies|medicine|insulin|blankets|batteries|flashlight|toilet|supplies|baby food)",
        ],
    ),
    (
        "shelter_evacuation",
        2.0,
        [
            "shelter",
            "evacuated",
            "evacuating",
            "evacuation center",
            "evacuation centre",
            "gym",
            "community center",
            "crowded",
            "full",
            "pets allowed",
            "sleeping in the car",
        ],
    ),
    (
        "caution_advice",
        2.0,
        [
            "warning",
            "advisory",
            "evacuation order",
            "stay away",
            "be careful",
            "please avoid",
            "official",
            "jma",
            "alert level",
            "turn off",
            "breaker",
            "stay indoors",
            "take care",
            "reminder",
            "do not go",
            "don't go near",
        ],
    ),
    (
        "info_request",
        1.5,
        [
            "where is",
            "where can",
            "where are",
            "is there",
            "does anyone",
            "anyone know",
            "is it open",
            "how can",
            "what should",
            "which shelter",
            "any info",
            "?",
        ],
    ),
    (
        "not_relevant",
        2.0,
        [
            "pray",
            "praying",
            "thoughts",
            "stay safe",
            "lol",
            "haha",
            "homework",
            "exam",
            "lunch",
            "game",
            "sale",
            "follow me",
            "giveaway",
            "watching the news",
            "on tv",
            "bored",
            "movie",
        ],
    ),
]

_EN += [
    (
        "damage_report",
        2.0,
        [
            "under water",
            "came into",
            "came in",
            "fell on",
            "fell down",
            "branch",
            "water's rising",
            "water is rising",
            "rising",
            "manhole",
            "roof",
            "broke",
            "broken",
            "flood water",
        ],
    ),
    (
        "shelter_evacuation",
        2.0,
        [
            "heading to",
            "evacuate to",
            "evacuation",
            "elementary",
            "school gym",
            "community centre",
        ],
    ),
    (
        "infrastructure",
        3.0,
        [
            r"stuck (at|on|in) .{0,20}(station|line|train|sakai|kichijoji|mitaka)",
            "train",
            "trains",
            "station",
        ],
    ),
    (
        "caution_advice",
        3.0,
        ["psa", "don't", "do not", "avoid", "stay inside", "stay home", "check on", "make sure"],
    ),
    ("not_relevant", 3.0, ["donate", "donation", "overseas", "abroad"]),
]


# Third round: someone else in danger, told by a neighbour or a relative; "people inside".
_JA += [
    (
        "rescue_request",
        3.0,
        [
            "中に人",
            "人がいる",
            "まだ人",
            "人が残",
            "声がする",
            "声はする",
            "声が聞こえ",
            "立ち往生",
            "至急",
            "出てこれな",
            "出てこられな",
            "降りられな",
            "返事がない",
            "手を振って",
            "手振って",
            "たすけ",
            "安否確認",
            "見に行けませんか",
            "様子見てあげて",
            "様子を見てあげて",
            "見てあげて",
            "行ってあげて",
            "声かけてあげて",
            r"連絡(が|も)?(つかな|取れな|とれな|つきま|取れま)",
            "倒れてる人",
            "倒れた人",
            "ケガひどい",
            "怪我ひどい",
            "動かない",
            "開かない",
            "閉じこめ",
            "瓦礫",
            "がれき",
        ],
    ),
    (
        "rescue_request",
        1.5,
        [
            "早く",
            "はやく",
            "来て",
            "誰か",
            "だれか",
            "近くの人",
            "近くの方",
            "どうしよう",
            "妊娠",
            "妊婦",
            "寝たきり",
            "車いす",
            "車椅子",
            "一人暮らし",
            "高齢",
            "おばあちゃん",
            "おじいちゃん",
            "お年寄り",
        ],
    ),
]
_EN += [
    (
        "rescue_request",
        3.0,
        [
            "under it",
            "under the rubble",
            "more people",
            "can anyone reach",
            "is trapped",
            "are trapped",
            "can't reach",
            "cannot reach",
            "help!",
            "hurry",
            "someone is inside",
            "people inside",
            "still inside",
        ],
    ),
    (
        "rescue_request",
        1.5,
        ["someone", "anyone", "my friend", "grandma", "grandmother", "elderly"],
    ),
]


# Fourth round: wider everyday coverage of each kind of post (spoken and written, Japanese
# and English), negations that take back a call for rescue, and ads and far-away news.
_JA += [
    (
        "rescue_request",
        3.0,
        [
            "息してない",
            "息をしてない",
            "息してません",
            "息がない",
            "意識ない",
            "意識がありません",
            "反応がない",
            "反応ない",
            "心肺停止",
            "人工呼吸",
            "救急車来ない",
            "救急車が来ない",
            "救急車こない",
            "救急車呼んで",
            "救急車を呼んで",
            "血が止まらない",
            "頭から血",
            "挟まって",
            "胸まで",
            "首まで",
            "屋根に避難",
            "屋根の上に",
            "逃げ場がない",
            "逃げ場ない",
            "流されそう",
            "溺れそう",
            "陣痛",
            "破水",
            "発作",
            "過呼吸",
            "熱中症",
            "助けてください",
            "助け呼んで",
            "助けを呼んで",
            "助けが必要",
            "救助を",
            "救助お願い",
            "救助求む",
            "レスキュー",
            "エレベーターに閉じ込",
            "エレベーター閉じ込",
        ],
    ),
    (
        "rescue_request",
        2.0,
        [
            r"(一人|ひとり|1人)で.{0,8}(動けな|歩けな|逃げられな|避難できな)",
            r"(水|みず).{0,8}(上が|増え|迫|入って).{0,12}(逃げ|動けな|怖|どうし)",
            r"(つながらない|繋がらない|出ない).{0,6}119|119.{0,8}(つながらな|繋がらな|出な|話し中)",
            "足が不自由",
            "介護",
            "要介護",
            "持病",
            "乳児",
            "幼児",
            "赤ん坊",
            "ケガして",
            "怪我して",
            "けがして",
            "血が出",
        ],
    ),
    (
        "rescue_request",
        -3.0,
        [
            "けが人はいな",
            "ケガ人はいな",
            "怪我人はいな",
            "けがはな",
            "ケガはな",
            "怪我はな",
            "みんな無事",
            "全員無事",
            "家族は無事",
        ],
    ),
    (
        "damage_report",
        2.0,
        [
            "浸水してる",
            "水かさ",
            "水嵩",
            "あふれそう",
            "溢れそう",
            "濁流",
            "水深",
            "くるぶし",
            "足首まで",
            "膝まで",
            "ひざまで",
            "地割れ",
            "ひび割れ",
            "崩れた",
            "崩れてる",
            "潰れ",
            "つぶれ",
            "全壊",
            "半壊",
            "倒れた",
            "倒れてる",
            "落ちてる",
            "落ちてきた",
            "剥がれ",
            "はがれ",
            "飛んできた",
            "窓ガラス",
            "電線",
            "焦げ臭",
            "焦げくさ",
            "黒煙",
            "煙出て",
            "火が出",
            "火の手",
            "燃え移",
            "爆発",
            "消防車",
            "落石",
            "斜面",
            "擁壁",
            "泥水",
            "逆流",
            "堤防",
        ],
    ),
    (
        "infrastructure",
        2.5,
        [
            "電気が消え",
            "電気消え",
            "電気つかない",
            "通電",
            "東京電力",
            "東電",
            "ガスが使えな",
            "ガス止ま",
            "回線",
            "通信",
            "基地局",
            "ドコモ",
            "ソフトバンク",
            "楽天モバイル",
            "運転再開",
            "動いてない",
            "動いてません",
            "運行",
            "間引き",
            "通行止",
            "通れな",
            "通れま",
            "渋滞",
            "交通規制",
            "閉鎖",
            "封鎖",
            "改札",
            "踏切",
            "信号消え",
            "給水",
            "濁った水",
            "下水",
        ],
    ),
    ("infrastructure", 1.0, ["駅", "電車来", "線路", "ダイヤ", "au"]),
    (
        "shelter_evacuation",
        2.0,
        [
            "避難してきた",
            "避難している",
            "避難しています",
            "避難所に着",
            "満杯",
            "定員",
            "受付",
            "名簿",
            "段ボールベッド",
            "間仕切り",
            "仕切り",
            "雑魚寝",
            "福祉避難所",
            "在宅避難",
            "テント",
            "開放",
            "一軒一軒",
            "戸別",
            "回って",
            "避難誘導",
            "誘導",
            "集合場所",
            "一時避難場所",
            "広域避難場所",
            "校庭",
            "同行避難",
            "犬連れ",
            "猫連れ",
            "ペット連れ",
        ],
    ),
    (
        "supplies_need",
        2.5,
        [
            r"(乾電池|充電器|充電|着替え|下着|靴下|服|布団|寝袋|段ボール|ゴミ袋|ビニール袋|土のう|土嚢|紙コップ|紙皿|割り箸|ウェットティッシュ|おしりふき|消毒|保冷剤|氷|発電機|ガソリン|灯油|ストーブ|酸素|ボンベ|吸引|処方|めがね|眼鏡|補聴器|入れ歯|生理用品|ナプキン|タオル|ラップ|ティッシュ).{0,12}(足り|不足|欲し|ほし|ください|下さい|必要|ない|無い|ありません|なくな|切れ|分けて|貸して|譲って|持ってる|お持ち|ある方|あれば|求む|お願い)",
            "分けてもらえ",
            "分けてください",
            "分けて下さい",
            "貸してください",
            "譲ってください",
            "譲ってもらえ",
            "届けてほしい",
            "持ってきてほしい",
            "持ってる方",
            "お持ちの方",
            "余ってる方",
            "提供してもらえ",
            "足りてない",
            "足りない",
            "底をつ",
            "残りわずか",
            "残り少な",
        ],
    ),
    (
        "info_request",
        1.5,
        [
            "知ってる人",
            "知ってる方",
            "分かりますか",
            "わかりますか",
            "どうなって",
            "どこで",
            "どこに",
            "どこか",
            "何時",
            "どのくらい",
            "どれくらい",
            "行けますか",
            "通れますか",
            "使えますか",
            "開いてますか",
            "動いてますか",
            "やってますか",
            "情報求",
            "情報募集",
            "確認する方法",
            "方法ありますか",
            "どうすれば",
            "どうしたら",
            "どうやって",
            "ありますか",
            "いますか",
            "ですか",
            "かしら",
        ],
    ),
    (
        "caution_advice",
        3.0,
        [
            "近寄らないで",
            "近付かないで",
            "触らないで",
            "触れないで",
            "通らないで",
            "使わないで",
            "飲まないで",
            "外出を控え",
            "不要不急",
            "非常用持ち出し",
            "持ち出し袋",
            "ハザードマップ",
            "垂直避難",
            "今のうちに",
            "した方がいい",
            "したほうがいい",
            "ほうがいいよ",
            "方がいいです",
            "デマ",
            "誤情報",
            "うそです",
            "嘘です",
            "詐欺",
            "便乗",
            "悪質",
            "市の発表",
            "防災課",
            "消防署より",
            "警察より",
            "大雨警報",
            "洪水警報",
            "暴風警報",
            "土砂災害警戒情報",
            "氾濫危険",
            "氾濫警戒",
            "避難判断水位",
            "レベル4",
            "レベル5",
            "大きな余震",
            "通電火災",
            "元栓",
            "伝言ダイヤル",
            "災害用伝言",
            "171",
            "拡散希望",
        ],
    ),
    (
        "caution_advice",
        2.0,
        [
            "注意",
            "警戒",
            "要注意",
            "危険です",
            "危ないので",
            "念のため",
            "早めに",
            "備え",
            "準備を",
            "準備して",
            "用意して",
            "確保して",
            "戸締り",
            "雨戸",
            "おすすめ",
            "必ず",
            "絶対に",
        ],
    ),
    (
        "not_relevant",
        2.0,
        [
            "祈ってます",
            "祈ります",
            "お祈り",
            "ますように",
            "頑張れ",
            "がんばれ",
            "負けるな",
            "思い出す",
            "思い出し",
            "爆笑",
            "腹筋",
            "ネタ",
            "冗談",
            "🤣",
            "😂",
            "割引",
            "%off",
            "クーポン",
            "今なら",
            "限定",
            "プロフ",
            "副業",
            "稼げ",
            "儲か",
            "投資",
            "通販",
            "ポイント",
            "【pr】",
            "#pr",
            "広告",
            "夕飯",
            "晩ごはん",
            "朝ごはん",
            "昼ごはん",
            "食べたい",
            "カフェ",
            "配信",
            "最高すぎ",
            "だるい",
            "上司",
            "出社",
            "テレワーク",
        ],
    ),
    (
        "not_relevant",
        3.0,
        ["能登", "熊本", "九州", "北海道", "沖縄", "大阪", "京都", "名古屋", "福岡", "台湾"],
    ),
]
_EN += [
    (
        "rescue_request",
        3.0,
        [
            "can't breathe",
            "cannot breathe",
            "not responding",
            "unresponsive",
            "no pulse",
            "cpr",
            "chest pain",
            "seizure",
            "heart attack",
            "heatstroke",
            "pinned",
            "buried",
            "under the debris",
            "crushed",
            "on the roof",
            "on our roof",
            "can't evacuate",
            "cannot evacuate",
            "can't get down",
            "can't get him out",
            "can't get her out",
            "call 119",
            "called 119",
            "119 isn't",
            "119 is busy",
            "ambulance isn't coming",
            "no ambulance",
            "need a boat",
            "swept away",
            "washed away",
            "being swept",
            "locked in",
            "can't open the door",
            "please send",
            "badly hurt",
            "went into labor",
            r"stuck (in|inside) (the |an |a |my |our )?(elevator|lift|car|house|room|building|rubble|apartment)",
            r"water.{0,20}up to (my|our|his|her|their) (chest|neck|waist)",
        ],
    ),
    (
        "rescue_request",
        2.0,
        [
            "stuck",
            "hurt",
            "wheelchair",
            "bedridden",
            "grandpa",
            "grandfather",
            "my mother",
            "my father",
            "my mom",
            "my dad",
            "baby",
            "toddler",
            "pregnant",
            "alone",
            "help",
        ],
    ),
    (
        "rescue_request",
        -3.0,
        [
            "no one was hurt",
            "nobody was hurt",
            "nobody hurt",
            "no one hurt",
            "no injuries",
            "everyone is safe",
            "everyone's safe",
            "we're safe",
            "we are safe",
            "we're ok",
            "we are ok",
        ],
    ),
    (
        "damage_report",
        2.0,
        [
            "knee-deep",
            "ankle-deep",
            "waist-deep",
            "river is rising",
            "about to overflow",
            "overflowed",
            "burst its banks",
            "on fire",
            "flames",
            "burning smell",
            "explosion",
            "crumbled",
            "toppled",
            "fell over",
            "knocked down",
            "uprooted",
            "power line",
            "power lines",
            "wires down",
            "downed",
            "cracked",
            "crack",
            "shattered",
            "broken glass",
            "tiles",
            "debris",
            "mud",
            "rockfall",
            "gave way",
            "leaning",
            "tilted",
            "damage",
            "up to my knees",
            "up to the knees",
        ],
    ),
    (
        "infrastructure",
        2.5,
        [
            "power out",
            "power went out",
            "power's back",
            "power is back",
            "power restored",
            "restored",
            "outage",
            "electricity",
            "lights are out",
            "no internet",
            "no wifi",
            "cell service",
            "no reception",
            "phone lines",
            "docomo",
            "softbank",
            "trains are running",
            "running again",
            "resumed",
            "delays",
            "delayed",
            "cancelled",
            "canceled",
            "road closure",
            "road blocked",
            "blocked",
            "signals",
            "elevator",
            "tap water",
            "water is off",
            "gas is off",
            "gas off",
        ],
    ),
    (
        "shelter_evacuation",
        2.0,
        [
            "evacuation site",
            "evacuation area",
            "we evacuated",
            "evacuated to",
            "made it to",
            "arrived at",
            "checked in",
            "registration",
            "packed",
            "overcrowded",
            "no space",
            "no room",
            "sleeping on the floor",
            "cardboard beds",
            "partitions",
            "pets",
            "door to door",
            "assembly point",
        ],
    ),
    (
        "supplies_need",
        2.5,
        [
            r"(need|needs|needed|short of|short on|running low on|low on|ran out of|running out of|out of|no more|looking for|anyone have|spare|bring|lend|borrow|share)\b.{0,30}\b(chargers?|power banks?|batteries|candles|clothes|socks|towels|blankets?|sleeping bags|tarps?|sandbags|masks|sanitizer|wipes|pads|tampons|formula|inhaler|oxygen|medication|meds|prescription|bottled water|drinking water|snacks|ice|generator|fuel|gasoline|kerosene|heater|cups|glasses)",
            "running low",
            "ran out",
            "in need of",
        ],
    ),
    (
        "info_request",
        1.5,
        [
            "do you know",
            "can someone tell",
            "can anyone tell",
            "is it safe",
            "how long",
            "how do i",
            "when will",
            "when does",
            "when is",
            "what time",
            "any update",
            "any news",
            "any information",
            "should i",
            "has anyone",
            "is anyone",
            "do i need",
        ],
    ),
    (
        "caution_advice",
        3.0,
        [
            "stay away from",
            "watch out",
            "beware",
            "heads up",
            "caution",
            "take shelter",
            "higher ground",
            "higher floor",
            "keep away",
            "remember to",
            "tip:",
            "tips",
            "fake",
            "rumor",
            "rumour",
            "hoax",
            "misinformation",
            "not true",
            "scam",
            "city says",
            "announced",
            "announcement",
            "issued",
            "expect aftershocks",
            "be prepared",
            "charge your phone",
            "fill your bathtub",
        ],
    ),
    (
        "not_relevant",
        2.0,
        [
            "thoughts and prayers",
            "sending love",
            "hugs",
            "stay strong",
            "hang in there",
            "lmao",
            "😂",
            "joke",
            "meme",
            "pizza",
            "coffee",
            "cafe",
            "beer",
            "netflix",
            "anime",
            "concert",
            "my boss",
            "deadline",
            "discount",
            "% off",
            "promo",
            "shop now",
            "link in bio",
            "dm me",
            "crypto",
            "invest",
            "in my country",
            "back home in",
            "reminds me",
        ],
    ),
    (
        "not_relevant",
        3.0,
        ["turkey", "taiwan", "california", "florida", "philippines", "italy", "kyoto", "osaka"],
    ),
]

# Fifth round: calls for rescue in the words of people who are not used to asking (relayed,
# indirect, medical, broken English, romaji), words that only sound like one (a drill, a
# game, thanks after a rescue, a crowded gym "filling up"), and feelings that are no topic.
_JA += [
    (
        "rescue_request",
        3.0,
        [
            "119番し",
            "119番通報",
            "119した",
            "119に電話",
            "119呼",
            "119かけ",
            "救急呼",
            "うごけな",
            "あるけな",
            "でられな",
            "にげられな",
            "ながされ",
            "きゅうきゅうしゃ",
            "きゅうじょ",
            "したじき",
            "胸が苦し",
            "血止まらな",
            "血が止まらな",
            "中にいます",
            "声する",
            "窓に人",
            "下りれな",
            "降りれな",
            "おりられな",
            "行方不明",
            r"(中に|なかに|運転席に|車内に).{0,4}(人|運転手|子ども|子供|犬と|おじいさん|おばあさん|夫|妻|家族|赤ちゃん)",
            r"(にかい|2かい|二階|2階|屋根|やね|ベランダ|テーブルの上).{0,3}(に|で)?(いる|います|避難|にげ|逃げ|上が|あが)",
            "ゴムボート",
            "ボートない",
            "ボートありませんか",
            "ボート出して",
            "ボートで来て",
            "来てくれ",
            "きてくれ",
            "叫んで",
            "叫び声",
            "うめき声",
            "屋根に上が",
            "屋根にいる",
            "屋根にのぼ",
            "車ごと",
            "車内に水",
            "車の中に水",
            "ひきつけ",
            "息が苦し",
            "息苦し",
            "吐血",
            "頭を打",
            "頭打",
            "血だらけ",
            "大けが",
            "大ケガ",
            "大怪我",
            "避難できてな",
            "避難できていな",
            "逃げてない",
            "逃げられず",
            "訓練じゃな",
            "訓練ではな",
            "訓練じゃありません",
            r"(どなたか|誰か|だれか|はやく|早く).{0,10}(おねがい|きて|たすけ|いって)",
            r"(水|みず).{0,10}(ドア|窓|まど|座席|シート|ハンドル).{0,6}(まで|の下|近く|くらい)",
            r"(家|中|部屋|建物|アパート|車|車内|2階|二階|屋根).{0,4}(に|の中に|で)(いる|います|いて).{0,6}(はず|らしい|みたい|そう|って|と思|かも)",
            r"(おじいさん|おばあさん|おじいちゃん|おばあちゃん|父|母|夫|妻|旦那|子ども|子供|息子|娘|男性|女性|人).{0,6}(倒れて|倒れた|倒れちゃ)",
            r"(父|母|夫|妻|祖母|祖父|おばあちゃん|おじいちゃん|子|息子|娘|赤ちゃん).{0,10}(胸が痛|息が|けいれん|痙攣|発作|意識|血が)",
        ],
    ),
    (
        "rescue_request",
        2.0,
        [
            "ボート",
            "119",
            "透析",
            "喘息",
            "ぜんそく",
            "胸が痛",
            "お腹が張",
            "お腹張",
            "破水",
            "出産",
            "臨月",
            "認知症",
            "障がい",
            "全盲",
            "目が見えな",
            "耳が聞こえな",
            "杖",
            "歩行器",
            "人工透析",
            "出てこない",
            "出てきません",
            "まだ中",
            "まだ家",
            "まだ2階",
            "まだ二階",
            "まだ部屋",
            "残ってる",
            "残っている",
            "埋まって",
            "閉まらない",
            "開けられない",
            "ヘルプ",
            "へるぷ",
            "人手",
            "戻ってこない",
            "戻ってきません",
            "帰ってこない",
            "いなくなった",
            "人影",
            "耳の聞こえな",
            "目の見えな",
            "病院に行けな",
            "病院行けな",
            "病院まで連れて",
            "病院に連れて",
            r"(職員|スタッフ|大人|男手|人手).{0,8}(しかいな|足りな|ください|欲しい|ほしい)",
            r"(みず|水).{0,6}(むね|くび|こし|ひざ|かいだん|階段)",
            r"(人|家族|母|父|祖母|祖父|子|おばあ|おじい|住人|旦那|奥さん|夫|妻).{0,6}(残って|残され)",
            r"(水|みず).{0,12}(腰|胸|首|膝|ひざ|もも|太もも|階段|天井|2階|二階).{0,6}(まで|くらい|ぐらい|の上)",
        ],
    ),
    (
        "rescue_request",
        -3.0,
        [
            "救助してもら",
            "救助していただ",
            "救助された",
            "救助されました",
            "救出された",
            "救出されました",
            "救出した",
            "助けてもらった",
            "助けてもらいました",
            "助けていただ",
            "助けてくれた",
            "助けてくれて",
            "助けてくださった",
            "救助隊の皆さん",
            "訓練",
            "ゲーム",
            "マイクラ",
            "ガチャ",
            "ボス戦",
            "見て胸が痛",
            "避難できました",
            "避難できた",
            "助け出してもら",
            "助け出された",
            "無事救出",
            "無事に",
            "無事でした",
            "よかった",
            "人はいな",
            "サイレン",
            "スマホゲー",
            "ソシャゲ",
            "イベント",
            r"(柵|ゴミ|自転車|植木鉢|看板|ボール|傘|プランター|バケツ).{0,2}流され",
            "閉じ込められたら",
            "取り残されたら",
            "動けなくなったら",
            "動けない方は",
            "動けない人は",
            "救助を待っている間",
            "救助活動",
            "救助中の",
            "救助で手",
            "救助のヘリ",
            "宿題",
            "番組",
            "ドラマ",
            "講習",
            "ニュースで",
            "物理的",
            r"(電車|線|バス|エレベーター|エスカレーター|ダイヤ|信号|スマホ|携帯|パソコン|エアコン|冷蔵庫|ルーター).{0,12}(動かな|うごかな)",
            r"(オートロック|自動ドア|改札|店|シャッター|スーパー|銀行).{0,6}(開かな|あかな)",
        ],
    ),
    ("rescue_request", -2.0, ["笑", "www", "草", "🤣", "😂", "経験", "年前", "夢"]),
    ("rescue_request", -2.0, ["去年", "昨年", "あの時", "あのとき", "前の台風", "前回の"]),
    (
        "infrastructure",
        2.5,
        [
            "ていでん",
            "だんすい",
            "しんごう",
            "でんきが",
            "でんき",
            "停電中",
            "断水中",
            "信号消",
            "信号が消",
            "エレベーター止",
            "エレベーターが止",
            "水道の水",
            "茶色い水",
            "受水槽",
            "給湯器",
            "バスが来な",
            "バス来な",
            "全便運休",
        ],
    ),
    ("not_relevant", 1.0, ["心配", "怖い", "こわい", "不安", "行きたい", "最高"]),
    ("not_relevant", 2.0, ["防災訓練", "避難訓練", "訓練で", "マイクラ", "ガチャ", "ボス戦"]),
]
_EN += [
    (
        "rescue_request",
        3.0,
        [
            "tasukete",
            "tasuke",
            "help pls",
            "help plz",
            "pls help",
            "plz help",
            "please come",
            "come quick",
            "come quickly",
            "come help",
            "nobody come",
            "no one come",
            "no one is coming",
            "nobody is coming",
            "need boat",
            "send a boat",
            "send boat",
            "a boat",
            "on roof",
            "can not move",
            "cannot move",
            "no can move",
            "can not go out",
            "cannot go out",
            "can't go out",
            "can not walk",
            "can not get out",
            "can not breath",
            "can't breathe",
            "cant breathe",
            "cant move",
            "cant get out",
            "cant walk",
            "contractions",
            "water breaks",
            "water broke",
            "in labor",
            "in labour",
            "collapsed and",
            "passed out",
            "fainted",
            "not waking",
            "won't wake",
            "lot of blood",
            "lots of blood",
            "head injury",
            "hit his head",
            "hit her head",
            "someone help",
            "anyone help",
            "help us please",
            "help please",
            "please rescue",
            "still inside",
            "inside the car",
            "car is floating",
            "water inside car",
            "under the collapsed",
            "shouting for help",
            "calling for help",
            "door wont open",
            "door won't open",
            "door is stuck",
            "door stuck",
            "hear voice",
            "hear voices",
            "hear someone",
            "haven't come back",
            "hasn't come back",
            "not come back",
            "didn't come back",
            r"(man|woman|person|people|someone|kid|child|children|baby|grandma|grandpa|mother|father) (is |are |still )?inside",
            r"(we|i|they|she|he|family|kids|baby|grandma|grandpa) (is|are|am|stay|staying|still) (in|on|at) (the )?(2nd|second|2|2f|upper|roof|upstairs)",
        ],
    ),
    ("rescue_request", 2.0, ["boat", "seizures", "diabetes", "blood sugar", "wandered", "missing"]),
    ("rescue_request", 1.5, ["plz", "pls", "water rising"]),
    ("rescue_request", 1.0, ["dialysis", "asthma", "disabled", "blind", "deaf", "dementia"]),
    (
        "rescue_request",
        -3.0,
        [
            "rescued us",
            "were rescued",
            "was rescued",
            "got rescued",
            "thanks to the rescue",
            "thank you to the",
            "helped us yesterday",
            "in the game",
            "video game",
            "drill",
            "last year",
            "if you are trapped",
            "if you're trapped",
            "if you get trapped",
            "only if",
            "on the news",
            "reminds me",
            "back then",
            "lol",
            "lmao",
            "haha",
        ],
    ),
    (
        "infrastructure",
        2.5,
        [
            "teiden",
            "denki",
            "power's flickering",
            "power flickering",
            "mobile data",
            "calls fail",
            "traffic light",
            "elevator stopped",
            "no trains",
            "not running",
        ],
    ),
    ("not_relevant", 1.0, ["so scared", "scary"]),
]


# Sixth round: a call for rescue told as damage (someone still inside, under, or not come
# out of what collapsed or flooded), damage that says no one is hurt or inside, evacuation
# and shelters in plain, kana and 半角カナ words, closures, and advice that names shelters.
_JA += [
    (
        "rescue_request",
        3.0,
        [
            "巻き込まれ",
            "抜けな",
            "抜け出せな",
            "起き上がれな",
            "立ち上がれな",
            "うずくまって",
            "安否不明",
            "返事ない",
            "返事もない",
            "出てきてない",
            "出てきていない",
            "見かけたきり",
            r"(中|なか|下|奥|瓦礫|がれき)から.{0,4}(声|泣き声|物音|音が)",
            r"(手|足|腕|頭|人)が見え",
            r"(柱|木|電柱|屋根|フェンス|手すり)に(つかまって|しがみつ)",
            r"(人|子|父|母|祖父母|祖父|祖母|おじいちゃん|おばあちゃん|おじさん|おばさん|住人|店員|従業員|家族).{0,4}(が|は)?(まだ|1階に|一階に|奥で|中で|中に|下に)(いた|いる|いて|倒れ|片付け)",
            r"(下に|中に|奥に)(人|子ども|子供|小学生|おじいさん|おばあさん|男性|女性|店員)",
        ],
    ),
    (
        "rescue_request",
        2.0,
        [
            "出てこない",
            "姿が見えな",
            "姿見てな",
            "姿を見てな",
            "開けられな",
            "固まって",
            "平屋",
            "一人で住",
        ],
    ),
    (
        "rescue_request",
        -3.0,
        [
            "けがなし",
            "ケガなし",
            "怪我なし",
            "けが人の情報",
            "ケガ人の情報",
            "怪我人の情報",
            "無事だった",
            "無事とのこと",
            "避難済",
            "空き家",
            "留守",
            "誰もいなかった",
            "人はいない模様",
            "元気そう",
            "助け出したあと",
            "助け出した後",
            "救出済",
            "てる気分",
            "な気分",
            r"(土|砂|塀|木|枝|瓦|物置|屋根|トタン).{0,2}流され",
        ],
    ),
    ("damage_report", 2.0, ["段差", "波打", "隆起", "ぺしゃんこ", "ぐしゃ", "倒れかか"]),
    (
        "shelter_evacuation",
        2.0,
        [
            "ひなんじょ",
            "ひなんする",
            "ひなんした",
            "ひなんしてる",
            "防災公園",
            "避難場所",
            "余裕あります",
            "まだ入れ",
            "今なら入れ",
            "受け入れ終了",
            "閉まってた",
            "ペット連れ",
            "ケージ",
            "消灯",
            "避難所入り",
            "入れない",
        ],
    ),
    (
        "caution_advice",
        3.0,
        [
            "避難指示",
            "高齢者等避難",
            "緊急安全確保",
            "忘れずに",
            "といいよ",
            "といいです",
            "がいいらしい",
            "避難を",
        ],
    ),
    ("supplies_need", 2.5, ["配られてない", "配られていない", "届かないかな", "もうない"]),
    (
        "infrastructure",
        2.5,
        [
            "立入禁止",
            "立ち入り禁止",
            "片側交互",
            "通れるようになった",
            "繋がるようになった",
            "つながるようになった",
        ],
    ),
]
_EN += [
    (
        "rescue_request",
        3.0,
        [
            "still in there",
            "under there",
            "hasn't come out",
            "hasn't come up",
            "haven't come out",
            "never left",
            "can't get up",
            "cannot get up",
            "knocking",
            "won't open",
            "can't get it open",
            "still sitting in",
            "holding onto",
            "clinging",
        ],
    ),
    ("rescue_request", 2.0, ["newborn", "walker", "dementia", "lives alone"]),
    (
        "rescue_request",
        -3.0,
        [
            "nobody injured",
            "no one injured",
            "not injured",
            "no casualties",
            "were empty",
            "was empty",
            "no one was home",
            "nobody was home",
            "nobody home",
            "were at work",
            "already out",
            "were evacuated",
        ],
    ),
    ("caution_advice", 3.0, ["evacuation orders", "evacuation advisory", "don't sleep"]),
    (
        "shelter_evacuation",
        2.0,
        ["at capacity", "packed", "redirecting", "sleeping in the car", "with pets", "got to the"],
    ),
    ("infrastructure", 2.5, ["closed to traffic", "is closed", "closed off", "detour", "one lane"]),
]


# Calls for rescue in the forms the words above miss: western and colloquial negatives
# (出られへん, 出れない), a person under or inside in kana only (半角カナ becomes kana in the
# search key), and in English someone on top of a vehicle in the water or a relative who does
# not pick up.
_JA += [
    (
        "rescue_request",
        3.0,
        [
            "出られへん",
            "出れへん",
            "出れない",
            "出れません",
            "動けへん",
            "動かれへん",
            "逃げられへん",
            "逃げれない",
            "上げられへん",
            "したにひと",
            "なかにひと",
            "おくにひと",
        ],
    ),
]
_EN += [
    (
        "rescue_request",
        3.0,
        [
            r"on top of (his|her|their|a|the|my|our) (car|van|truck)",
            r"(isn't|is not|not|won't|hasn't been|isn’t) picking up",
        ],
    ),
]

# Calls for rescue that name the danger without a word above: blood, someone on a roof or
# under or inside what fell, a fall into the water, 出られん (dialect), "cannot on my own",
# romaji; and what takes such words back: a rescue that is over (救助済み, 救助されて), a
# trap denied (閉じ込められてはいない), song lyrics, and a question of how to ask for rescue
# (those are questions or advice, not calls).
_JA += [
    (
        "rescue_request",
        3.0,
        [
            "血まみれ",
            "血を流",
            "頭から血",
            "血がすごい",
            "出られん",
            "出れん",
            "でられん",
            "孤立中",
            r"(屋根|車の上|車の屋根)(に|の上に|の上で)(人|乗って|のって)",
            r"(川|用水路|水路|側溝|池)に.{0,8}落ち(た|て)",
            r"自力(で|では)(は)?(無理|避難でき|逃げられ|動け|出られ)",
        ],
    ),
    (
        "rescue_request",
        2.0,
        [
            r"避難所(まで|に|へ)(は)?(行けな|行けません|いけな)",
            r"(が|は)(まだ)?(奥|中|下)(に|で)(いた|いる|いて|倒れ)",
        ],
    ),
    (
        "rescue_request",
        -3.0,
        [
            "救助済",
            r"(救助|救出)されて(今|いま|、|。|無事|避難|病院)",
            "助かりました",
            "閉じ込められてはいな",
            "取り残されてはいな",
            "歌詞",
            "カラオケ",
            "新曲",
            "救助を頼",
            "救助要請って",
            r"救助要請の(方法|仕方|とき|際)",
            "救助を呼ぶには",
        ],
    ),
]
_EN += [
    ("rescue_request", 3.0, ["ugokenai", "detarenai", "dareka"]),
    (
        "rescue_request",
        -3.0,
        [
            "lyrics",
            "song",
            r"how (do|can|should) (i|you|we) (request|ask for|call for) (a )?rescue",
        ],
    ),
]

_HAZARD_JA: list[tuple[str, list[str]]] = [
    (
        "fire",
        ["火事", "火災", "燃え", "煙", "炎", "延焼", "消防車", "焦げ", "出火", "火の手", "爆発"],
    ),
    (
        "landslide",
        ["土砂", "崖", "がけ", "地すべり", "地滑り", "土石流", "斜面", "落石", "山崩れ", "擁壁"],
    ),
    (
        "earthquake",
        [
            "地震",
            "揺れ",
            "ゆれ",
            "震度",
            "余震",
            "震源",
            "倒壊",
            "ブロック塀",
            "家具が倒",
            "液状化",
            "緊急地震速報",
            "地割れ",
            "家具",
            "グラッ",
            "ぐらぐら",
            "震災",
            "耐震",
        ],
    ),
    (
        "flood",
        [
            "冠水",
            "浸水",
            "水没",
            "氾濫",
            "はんらん",
            "増水",
            "洪水",
            "水位",
            "決壊",
            "越水",
            "野川",
            "仙川",
            "川が",
            "川の",
            "水が(来|き|入|上が|あが|溢|あふ|引|増|迫|流れ込|たま|溜ま|すご)",
            "床上",
            "床下",
            "溢れ",
            "あふれ",
            "水浸し",
            "腰まで",
            "膝まで",
            "ひざまで",
            "胸まで",
            "水深",
            "水かさ",
            "濁流",
            "浸か",
            "用水路",
            "水路",
            "逆流",
            "マンホール",
            "神田川",
            "玉川上水",
            "堤防",
            "土のう",
            "土嚢",
            "アンダーパス",
        ],
    ),
    (
        "storm",
        [
            "台風",
            "暴風",
            "強風",
            "突風",
            "大雨",
            "豪雨",
            "雷",
            "竜巻",
            "風で",
            "風が",
            "雨が",
            "ゲリラ豪雨",
            "記録的短時間大雨",
            "暴風雨",
            "倒木",
            "飛ばされ",
            "雨漏り",
            "風",
            "雨",
        ],
    ),
]
_HAZARD_EN: list[tuple[str, list[str]]] = [
    ("fire", ["fire", "smoke", "burning", "flames", "blaze", "burned"]),
    ("landslide", ["landslide", "mudslide", "slope", "rockfall", "cliff", "hillside"]),
    ("earthquake", ["earthquake", "quake", "shaking", "aftershock", "tremor", "shook", "seismic"]),
    (
        "flood",
        [
            "flood",
            "flooded",
            "flooding",
            "river",
            "water level",
            "underwater",
            "submerged",
            "waist",
            "knee-deep",
            "knees",
            "chest",
            "overflow",
            "inundated",
            "sewage",
            "manhole",
            "underpass",
            "sandbags",
            "levee",
        ],
    ),
    (
        "storm",
        [
            "typhoon",
            "storm",
            "strong wind",
            "heavy rain",
            "rain",
            "wind",
            "thunder",
            "tornado",
            "gust",
            "blown",
            "blew",
            "fallen tree",
            "tree fell",
            "branches",
        ],
    ),
]

# Urgency beyond the category: life at risk now, or merely information.
_HIGH_JA = re.compile(
    "|".join(
        [
            "燃え広が",
            "延焼",
            "火が広が",
            "人が(中に|下敷き|閉じ込め|取り残)",
            "下敷き",
            "生き埋め",
            "逃げ遅れ",
            "意識",
            "呼吸",
            "命",
            "今すぐ",
            "至急",
            "急いで",
            "燃え移",
            "隣に燃え",
            "家に流れ込",
            "住宅に流れ込",
            "堤防が切れ",
            "決壊",
            "中に人",
            "閉じ込め",
            "取り残",
        ]
    )
)
_HIGH_EN = re.compile(
    r"spreading|people inside|trapped|right now|urgent|life|someone inside|levee|next house"
)
_LOW_SHELTER_JA = re.compile(
    "避難しました|避難完了|無事|着きました|着いた|到着|合流|開設|開いて|ありがたい|安心"
)
_LOW_SHELTER_EN = re.compile(r"made it|arrived|we're safe|we are safe|opened|is open|thank")
# Supplies that keep someone alive.
_HIGH_SUPPLIES = re.compile(
    "いんすりん|酸素|吸引|透析|人工呼吸器|insulin|oxygen|dialysis|suction|ventilator"
)
# Past, receded or "not affected / restored": nothing to do any more.
_LOW_JA = re.compile(
    "引いた|引いて|引きました|おさまった|収まった|復旧|戻った|直った|通電|再開|動き出"
    "|(停電|断水|被害)(は|も)?(して|して)?(い)?ない|(停電|断水)してません|生きてます|使えます|問題な"
)
_LOW_EN = re.compile(
    r"receded|went down|gone down|restored|back on|is back|came back|resumed|running again"
    r"|not affected|no damage|(power|water|gas) (is|are) fine|working (fine|again)"
)
# A request to check on someone who cannot be reached: needs action, not life at risk.
_WELFARE_JA = re.compile("連絡(が|も)?(つかな|取れな|とれな|つきま|取れま)|様子(を)?見て|安否")
_WELFARE_EN = re.compile(
    r"can't reach|cannot reach|haven't heard|not answering|check on|(isn't|not) picking up"
)


@dataclass(frozen=True, eq=False)  # each cue is itself (two may read the same)
class _Cue:
    category: str
    weight: float
    pattern: re.Pattern[str] | None  # None: the needle alone decides
    label: str
    needle: str = ""  # a substring the post must contain (a fast first test)


# The regular-expression parser of the standard library (private, no type stubs): what a cue
# pattern must contain and may start with, for a fast first test.
re_parser: Any = importlib.import_module("re._parser")


def _needle(pattern: re.Pattern[str]) -> str:
    """The longest run of plain characters that every match of ``pattern`` contains (a fast
    first test), or "" when it has none of two characters or more."""
    runs, run = [""], ""
    for op, av in re_parser.parse(pattern.pattern, pattern.flags):
        if op is re_parser.LITERAL:
            run += chr(av)
        else:
            runs.append(run)
            run = ""
    longest = max([*runs, run], key=len)
    return longest if len(longest) >= 2 else ""


def _first_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """The characters a match of ``pattern`` can start with, or None when that is not a
    short list (a match may start anywhere, or be empty)."""
    parsed = re_parser.parse(pattern.pattern, pattern.flags)

    def first(items: Any) -> tuple[set[str] | None, bool]:
        """First characters of a sequence, and whether it can match the empty string."""
        found: set[str] = set()
        for op, av in items:
            if op is re_parser.LITERAL:
                found.add(chr(av))
                return found, False
            if op is re_parser.IN:
                for item_op, item_av in av:
                    if item_op is not re_parser.LITERAL:
                        return None, False
                    found.add(chr(item_av))
                return found, False
            if op in (re_parser.AT, re_parser.ASSERT, re_parser.ASSERT_NOT):
                continue  # zero width
            if op is re_parser.SUBPATTERN:
                branches = [av[-1]]
                least = 1
            elif op is re_parser.BRANCH:
                branches = av[1]
                least = 1
            elif op in (re_parser.MAX_REPEAT, re_parser.MIN_REPEAT):
                least, _most, sub = av
                branches = [sub]
            else:
                return None, False
            empty = least == 0
            for branch in branches:
                chars, can_be_empty = first(branch)
                if chars is None:
                    return None, False
                found |= chars
                empty = empty or can_be_empty
            if not empty:
                return found, False
        return found, True

    chars, empty = first(parsed)
    return None if chars is None or empty else frozenset(chars)


def _compile(table: list[tuple[str, float, list[str]]], japanese: bool) -> list[_Cue]:
    cues = []
    for category, weight, words in table:
        for word in words:
            is_regex = any(ch in word for ch in "(|.{\\[^$")
            if is_regex:
                pattern = re.compile(_key_pattern(word) if japanese else word)
                cues.append(_Cue(category, weight, pattern, word, needle=_needle(pattern)))
            elif japanese:
                cues.append(_Cue(category, weight, None, word, needle=text.search_key(word)))
            else:  # whole words: "bus" is not in "business", "fire" not in "fireworks"
                source = rf"(?<![a-z]){re.escape(word)}(?![a-z])"
                cues.append(_Cue(category, weight, re.compile(source), word, needle=word))
    return cues


def _key_pattern(pattern: str) -> str:
    """A regex written in plain Japanese, with its literal runs turned into search keys."""
    out = []
    for part in re.split(r"([()|.{}\[\]0-9,*+?\\])", pattern):
        out.append(part if len(part) <= 1 and not part.isalpha() else text.search_key(part))
    return "".join(out)


_JA_CUES = _compile(_JA, True)
_EN_CUES = _compile(_EN, False)


_Index = tuple[list[_Cue], dict[str, list[_Cue]], dict[str, list[_Cue]]]


def _index(cues: list[_Cue]) -> _Index:
    """Cues by the first two characters of their needle: a post only tries the cues whose
    first two characters it contains; the others (patterns and one-character needles) by
    the characters a match can start with; and the few that must be tried on every post."""
    always: list[_Cue] = []
    by_start: dict[str, list[_Cue]] = {}
    by_char: dict[str, list[_Cue]] = {}
    for cue in cues:
        if len(cue.needle) >= 2:
            by_start.setdefault(cue.needle[:2], []).append(cue)
            continue
        starts = frozenset(cue.needle) if cue.needle else None
        if cue.pattern is not None:
            starts = _first_chars(cue.pattern)
        if starts is None:
            always.append(cue)
        else:
            for char in starts:
                by_char.setdefault(char, []).append(cue)
    return always, by_start, by_char


_JA_INDEX = _index(_JA_CUES)
_EN_INDEX = _index(_EN_CUES)
_ORDER = {cue: n for n, cue in enumerate(_JA_CUES + _EN_CUES)}
# (category, label) → the weight of each cue so named, in table order.
_WEIGHTS: dict[tuple[str, str], list[float]] = {}
for _cue in _JA_CUES + _EN_CUES:
    _WEIGHTS.setdefault((_cue.category, _cue.label), []).append(_cue.weight)
_HAZARD_JA_RE = [
    (
        h,
        re.compile(
            "|".join(_key_pattern(w) if "(" in w else re.escape(text.search_key(w)) for w in ws)
        ),
    )
    for h, ws in _HAZARD_JA
]
_HAZARD_EN_RE = [
    (h, re.compile(r"\b(" + "|".join(re.escape(w) for w in ws) + r")")) for h, ws in _HAZARD_EN
]
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"@[A-Za-z0-9_]+")
_RT = re.compile(r"^\s*RT\s+@[A-Za-z0-9_]+:?\s*")
_TAGS = re.compile(r"<[^>]{0,200}>")


@dataclass
class Triage:
    category: str
    urgency: str
    hazard: str
    town: str | None
    lat: float | None
    lon: float | None
    explanation: dict[str, str] = field(default_factory=dict)
    outside: bool = False
    hazard_from_cues: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "urgency": self.urgency,
            "hazard": self.hazard,
            "town": self.town,
            "lat": self.lat,
            "lon": self.lon,
            "explanation": self.explanation,
        }


def clean(written: str) -> str:
    """The words of a post: no retweet prefix, links, mentions or HTML tags."""
    cleaned = _RT.sub("", written or "")
    cleaned = _URL.sub(" ", cleaned)
    cleaned = _MENTION.sub(" ", cleaned)
    return _TAGS.sub(" ", cleaned)


def _pairs(written: str) -> set[str]:
    """The character pairs of a text."""
    return set(map(str.__add__, written, written[1:]))


def _matches(key: str, lower: str, pairs: set[str] | None = None) -> dict[str, list[str]]:
    """The labels of the cues a post contains, by category, in table order (``pairs``: the
    character pairs of ``key``, when the caller has them)."""
    found: list[_Cue] = []
    for (always, by_start, by_char), written, grams in (
        (_JA_INDEX, key, pairs),
        (_EN_INDEX, lower, None),
    ):
        if grams is None:
            grams = _pairs(written)
        for start in by_start.keys() & grams:
            found += [
                cue
                for cue in by_start[start]
                if cue.needle in written and (cue.pattern is None or cue.pattern.search(written))
            ]
        tried = set(always)
        for char in by_char.keys() & set(written):
            tried.update(by_char[char])
        found += [
            cue
            for cue in tried
            if cue.needle in written and (cue.pattern is None or cue.pattern.search(written))
        ]
    words: dict[str, list[str]] = {}
    for cue in sorted(found, key=_ORDER.__getitem__):
        words.setdefault(cue.category, []).append(cue.label)
    return words


def _tally(matched: dict[str, list[str]]) -> defaultdict[str, float]:
    """Each category's score from the cues found for it."""
    scores: defaultdict[str, float] = defaultdict(float)
    for category, labels in matched.items():
        seen: Counter[str] = Counter()
        found = []
        for label in labels:
            found.append(_WEIGHTS[(category, label)][seen[label]])
            seen[label] += 1
        # The strongest cue counts; more cues of one kind add a little (many words for one
        # thing are not many things).
        scores[category] = max(found) + 0.25 * (len(found) - 1)
        # Missing a call for rescue costs most: its cues add up (an old woman + water
        # rising + "someone please" is a call for rescue even without 助けて).
        # A cue that takes the call back (thanks after a rescue, a drill, a game, advice on
        # what to do if trapped) leaves only the strongest call, less what takes it back.
        if category == "rescue_request":
            calls = [weight for weight in found if weight > 0]
            taken_back = sum(weight for weight in found if weight < 0)
            if taken_back:
                scores[category] = max(calls, default=0.0) + taken_back
            else:
                scores[category] = sum(found)
    return scores


def _scores(key: str, lower: str) -> tuple[defaultdict[str, float], dict[str, list[str]]]:
    words = _matches(key, lower)
    return _tally(words), words


_WORD = re.compile(r"[a-z][a-z']+")
# Runs of one script in the search key (kanji, or kana: katakana is hiragana there): a rough
# stand-in for Japanese words that needs no dictionary.
_RUN = re.compile(r"[一-龥々〆ヶ]+|[ァ-ヺー]+|[ぁ-ゖー]+")


def features(key: str, lower: str, matched: dict[str, list[str]], place: str = "none") -> list[str]:
    """What the category model reads: characters and character pairs of the post, runs of
    one script (Japanese words, roughly), English words, the lexicon's cues (each named, and
    each category that has one), the category the rules alone would give, the cues of context
    (tense, person, a joke, news, advice; alone and with that category) and whether the post
    names a place in Mitaka, outside it or none (``place``: "mitaka", "outside", "none")."""
    rule = _category(_tally(matched), key, lower)
    return sorted(_features(key, lower, matched, rule, place=place))  # sorted: reproducible


_ASCII = frozenset(map(chr, range(128)))

# Cues of context: not what a post is about but how it says it: whether the call is past or
# over, a joke, news from elsewhere, advice to everyone, someone else in danger, a plea. The
# words of a call for rescue recur in all of these; the model learns from the context cues,
# and from each of them together with the rules' category, which of them take a call back.
# name: (Japanese words, matched in the search key; English words; English phrases).
_CONTEXT: dict[str, tuple[str, str, str]] = {
    "past": (
        "ました でした てた 済み 済 すでに もう引 もう大丈夫 収まった おさまった 終わった 去年 昔 年前 昨日 この前",
        "was were had yesterday earlier already rescued ago",
        "last year|last night|got out|went down",
    ),
    "safe": (
        "無事 けがなし けがはない けが人はいない けが人なし 避難済 全員外 全員2階 全員無事 大丈夫です"
        " 人はいな 人もいな いなかった 乗ってな 助かった 救出された 救助された 助け出され"
        " 救助済 救出済 助かりました",
        "luckily thankfully",
        "nobody hurt|no one hurt|nobody was|no one was|no injuries|we're fine|we are fine|we're ok"
        "|we're safe|all fine|all good|everyone is fine|everyone's fine|everyone is safe"
        "|nobody inside|no one inside|nobody lived",
    ),
    "joke": (
        "笑 冗談 ネタ ごっこ 夢 ゲーム ドラマ 映画 アニメ 推し 漫画 マンガ ボケ ギャグ 比喩 気分 心が 課長 上司"
        " 宿題 会議 メール 草 ww 😂 🤣 😅 歌詞 カラオケ 新曲 小説 主人公",
        "lol lmao haha hahaha jk joking kidding meme memes movie drama game meeting email emails"
        " homework song lyrics novel",
        "",
    ),
    "news": (
        "速報 ニュース 報道 によると 特番 テレビ 海外 九州 熊本 トルコ フィリピン ヨーロッパ 沖縄 北海道 映像",
        "news breaking reported reports tv abroad",
        "according to",
    ),
    "prayer": (
        "祈 いのり お見舞い ご無事 無事であ 無事でい どうか 心配です 胸が痛",
        "pray praying prayers",
        "thoughts and|stay safe|stay strong|hope everyone",
    ),
    "advice": (
        "ないで ないように ましょう しよう 注意 気をつけ 忘れず ておいて は危 が危 誤情報 デマ 【 控えて 近づかない",
        "don't dont never avoid psa remember",
        "do not|make sure|be careful|stay away|stay inside",
    ),
    "plea": (
        "助けて たすけ 来て きて お願い 誰か だれか どなたか ください ほしい 欲しい 頼む はやく 早く 至急 !!"
        " どうしたら どうすれば",
        "please pls plz someone anyone somebody send need help hurry asap",
        "",
    ),
    "someone": (
        "中に なかに 返事 出てこない 出てきて 姿が見えない 応答 声がする 声が聞こえ 呼んでも 手を振 叫",
        "inside screaming shouting waving",
        "not answering|isn't answering|no answer|can hear",
    ),
    "first_person": (
        "私 わたし 俺 僕 ぼく 自分 うち 我が家",
        "i'm my we we're our me us",
        " i ",
    ),
    "other_person": (
        "おばあ おじい ばあちゃん じいちゃん 祖母 祖父 母 父 隣 近所 子ども 子供 こども 赤ちゃん 妻 夫 息子 娘"
        " 住人 入居者 利用者 叔母 叔父 友達 友だち さんが さんは さんの 旦那 オカン 親",
        "neighbor neighbour neighbors neighbours grandma grandpa grandmother grandfather mom mum"
        " dad mother father wife husband kid kids child children baby son daughter aunt uncle"
        " friend resident residents",
        "old man|old lady|old woman",
    ),
    "vulnerable": (
        "高齢 お年寄り 老人 寝たきり 車いす 車椅子 足が悪 足の悪 足が不自由 足の不自由 歩けな 耳が 認知 妊"
        " 一人暮らし ひとり暮らし 障害 介護 人工呼吸 酸素 透析 乳児 赤ちゃん",
        "elderly wheelchair walker pregnant disabled alone bedridden dementia oxygen infant",
        "",
    ),
    "rising": (
        "膝 腰 胸 首 床上 2階 二階 階段 屋根 天井 増えて 上がって あがって どんどん 止まらない 入ってき 来てる きてる",
        "knee knees waist chest neck stairs upstairs roof rising",
        "2nd floor|coming in|coming up",
    ),
    "now": ("今 いま まだ 現在 さっきから ずっと", "now still currently", ""),
    "question": ("? ますか ですか かな どこ いつ", "", "?"),
    "hashtag": ("#", "", "#"),
}
# Sentence ends in the past tense (た / だ before a stop or at the end), and a question
# ending in か: what the lists of words above cannot say.
_PAST_END = re.compile("[ただ](?:[。!、…]|$)")
_QUESTION_END = re.compile("か(?:[。!]|$)")


def _context_index() -> tuple[
    dict[str, list[tuple[str, str]]],
    dict[str, list[str]],
    dict[str, list[str]],
    list[tuple[str, str]],
]:
    """The context cues as look-ups: Japanese words by their first two characters (a post
    only tries those whose first pair it has) and one-character words by the character;
    English words by the word; English phrases to look for as they are."""
    by_pair: dict[str, list[tuple[str, str]]] = {}
    by_char: dict[str, list[str]] = {}
    by_word: dict[str, list[str]] = {}
    phrases: list[tuple[str, str]] = []
    for name, (japanese, english, phrase) in _CONTEXT.items():
        for word in japanese.split():
            needle = text.search_key(word)
            if len(needle) == 1:
                by_char.setdefault(needle, []).append(name)
            else:
                by_pair.setdefault(needle[:2], []).append((needle, name))
        for word in english.split():
            by_word.setdefault(word, []).append(name)
        phrases += [(item, name) for item in phrase.split("|") if item]
    return by_pair, by_char, by_word, phrases


_CONTEXT_BY_PAIR, _CONTEXT_BY_CHAR, _CONTEXT_BY_WORD, _CONTEXT_PHRASES = _context_index()
_KANJI = re.compile("[一-龥々]")
_KANA = re.compile("[ぁ-ゖ]")


def _context(key: str, lower: str, pairs: set[str], chars: set[str], words: set[str]) -> set[str]:
    """The names of the cues of context a post has (see _CONTEXT), and its script."""
    found: set[str] = set()
    for pair in _CONTEXT_BY_PAIR.keys() & pairs:
        found.update(name for needle, name in _CONTEXT_BY_PAIR[pair] if needle in key)
    for char in _CONTEXT_BY_CHAR.keys() & chars:
        found.update(_CONTEXT_BY_CHAR[char])
    for word in _CONTEXT_BY_WORD.keys() & words:
        found.update(_CONTEXT_BY_WORD[word])
    if words or "#" in lower or "?" in lower:
        padded = f" {lower} "
        found.update(name for phrase, name in _CONTEXT_PHRASES if phrase in padded)
    if _PAST_END.search(key):
        found.add("past")
    if _QUESTION_END.search(key):
        found.add("question")
    if not _KANJI.search(key) and _KANA.search(key):
        found.add("kana_only")
    if any(ord(char) > 0xFFFF for char in chars):
        found.add("emoji")
    return found


def _features(
    key: str,
    lower: str,
    matched: dict[str, list[str]],
    rule: str,
    pairs: set[str] | None = None,
    place: str = "none",
) -> list[str]:
    """features() in no set order, given the category the rules give and the character pairs
    of ``key`` (triage_post has them already)."""
    pairs = _pairs(key) if pairs is None else pairs
    found = set(pairs)
    chars = set(key)
    found.update(map("u:".__add__, chars - _ASCII))
    found.update(map("t:".__add__, _RUN.findall(key)))
    words = set(_WORD.findall(lower))
    found.update(map("w:".__add__, words))
    for category, labels in matched.items():
        found.add("cat:" + category)
        prefix = f"cue:{category}:"
        found.update(map(prefix.__add__, labels))
    found.add("rule:" + rule)
    found.add("rule2:" + rule)
    if "?" in key:
        found.add("question")
    context = _context(key, lower, pairs, chars, words)
    found.update(map("ctx:".__add__, context))
    found.update(f"ctx:{name}|{rule}" for name in context)
    found.add("place:" + place)
    found.add(f"place:{place}|{rule}")
    return list(found)


def _category(scores: defaultdict[str, float], key: str, lower: str) -> str:
    asks = scores["info_request"] >= 1.5 and ("?" in key or "?" in lower)
    strong = {c: s for c, s in scores.items() if c not in ("info_request", "not_relevant")}
    if scores["rescue_request"] >= 3.0:
        return "rescue_request"
    # A question, even about an outage or a shelter, is someone wanting to know; unless it
    # asks for supplies or reports much besides.
    if asks and scores["supplies_need"] < 2.5 and not (strong and max(strong.values()) >= 3.25):
        return "info_request"
    if not strong:
        if scores["info_request"] >= 1.5:
            return "info_request"
        return "not_relevant"
    best = max(strong, key=lambda c: (strong[c], PRIORITY[c]))
    # Off-topic words (a worry, a joke marker) do not outweigh a sign of someone in danger.
    if best != "rescue_request" and scores["not_relevant"] > strong[best] + 0.5:
        return "not_relevant"
    return best


def _urgency(category: str, key: str, lower: str) -> tuple[str, str]:
    at_risk = bool(_HIGH_JA.search(key) or _HIGH_EN.search(lower))
    if category == "rescue_request":
        if not at_risk and (_WELFARE_JA.search(key) or _WELFARE_EN.search(lower)):
            return "medium", "安否確認の依頼 / a request to check on someone"
        return "high", "救助の求め / a call for rescue"
    if category in ("not_relevant", "info_request", "caution_advice"):
        return "low", "情報・質問・注意喚起 / information, a question or advice"
    if category == "damage_report" and at_risk:
        return "high", "命に関わる被害 / damage that puts lives at risk"
    if category == "supplies_need" and _HIGH_SUPPLIES.search(key):
        return "high", "命をつなぐ物資 / supplies that keep someone alive"
    if category == "shelter_evacuation" and (
        _LOW_SHELTER_JA.search(key) or _LOW_SHELTER_EN.search(lower)
    ):
        return "low", "避難の報告 / an evacuation report"
    if category in ("damage_report", "infrastructure") and (
        _LOW_JA.search(key) or _LOW_EN.search(lower)
    ):
        return "low", "収まった・影響なし / over, or not affected"
    return "medium", "対応が必要 / needs action"


def _hazard(key: str, lower: str) -> tuple[str | None, str]:
    for hazard, pattern in _HAZARD_JA_RE:
        found = pattern.search(key)
        if found:
            return hazard, found.group()
    for hazard, pattern in _HAZARD_EN_RE:
        found = pattern.search(lower)
        if found:
            return hazard, found.group()
    return None, ""


# Missing a call for rescue costs more than a false alarm: the model answers rescue when its
# rescue score comes within RESCUE_MARGIN of the best; and a call for rescue the lexicon is
# sure of (its cues weigh 3 or more) stays one unless the model's rescue score is further than
# FORCE_MARGIN below its best (None: it always stays one). scripts/train_sns_model.py chooses
# both by cross-validation on the development set and records them in the model's metadata
# (``meta``), which wins over these defaults (used by a model that records none).
RESCUE_MARGIN = 1.0
FORCE_MARGIN: float | None = 10.0


def margins(model: perceptron.Perceptron) -> tuple[float, float | None]:
    """The rescue margin and the force margin a model was trained with (see above)."""
    meta = model.meta
    rescue = float(meta.get("rescue_margin", RESCUE_MARGIN))
    force = meta.get("force_margin", FORCE_MARGIN)
    return rescue, None if force is None else float(force)


def decide(
    rule: str,
    lexicon_rescue: float,
    model_scores: dict[str, float],
    rescue_margin: float,
    force_margin: float | None,
) -> tuple[str, str]:
    """The category from the rules' answer (``rule``, with the lexicon's rescue score) and the
    model's scores, and why, when rescue won because missing it costs most ("" otherwise).

    A call for rescue the lexicon is sure of stays one, and the model's "off topic" does not
    silence a post the lexicon finds someone in danger in; unless the model, which also reads
    the context (a joke, news from elsewhere, a rescue that is over), puts rescue further than
    ``force_margin`` below its best. Otherwise the model decides, answering rescue when its
    rescue score is within ``rescue_margin`` of its best."""
    best_name = max(model_scores, key=lambda name: model_scores[name])
    gap = model_scores[best_name] - model_scores["rescue_request"]
    model_agrees = force_margin is None or gap <= force_margin
    if rule == "rescue_request" and lexicon_rescue >= 3.0 and model_agrees:
        if gap > 0:
            return rule, "語の手がかりを優先 / the lexicon's call kept"
        return rule, ""
    if best_name != "rescue_request" and gap <= rescue_margin:
        return "rescue_request", f"救助を優先（差 {gap:.1f}）/ rescue preferred, {gap:.1f} below"
    if best_name == "not_relevant" and lexicon_rescue >= 2.0 and model_agrees:
        return "rescue_request", "語の手がかりを優先 / the lexicon's call kept"
    return best_name, ""


MODEL_FILE = "model.json.gz"  # in data/, trained by scripts/train_sns_model.py


def shipped_model() -> perceptron.Perceptron | None:
    return perceptron.load("cityos.sns", MODEL_FILE)


def place_kind(place: Place | Outside | None) -> str:
    """What the category model knows of a post's place: in Mitaka, outside it, or none."""
    if isinstance(place, Place):
        return "mitaka"
    return "outside" if isinstance(place, Outside) else "none"


def triage_post(written: str, gazetteer: Gazetteer) -> Triage:
    """Category, urgency, hazard and place of one post, with what decided each."""
    words = clean(written)
    key = text.search_key(words)
    lower = text.normalize(words).lower()
    pairs = _pairs(key)
    matched = _matches(key, lower, pairs)
    scores = _tally(matched)
    category = _category(scores, key, lower)
    place = gazetteer.find(words, key, lower)
    preferred = ""
    model = shipped_model()
    if model is not None:
        model_scores = model.scores(
            _features(key, lower, matched, category, pairs, place=place_kind(place))
        )
        category, preferred = decide(
            category, scores["rescue_request"], model_scores, *margins(model)
        )
        second = second_stage.load()
        if second is not None:
            category, preferred = _second_look(
                second, category, preferred, model_scores, words, key, lower, pairs
            )
    urgency, why_urgency = _urgency(category, key, lower)
    hazard, hazard_word = _hazard(key, lower)
    explanation = {
        "category": (
            f"{category}: " + "、".join(matched.get(category, [])[:5])
            if matched.get(category)
            else f"{category}: 手がかりなし / no cue"
        )
        + (f" ({preferred})" if preferred else ""),
        "urgency": f"{urgency}: {why_urgency}",
    }
    if category == "not_relevant":
        final_hazard = "none"
        explanation["hazard"] = "none: 関連なし / not relevant"
    elif hazard:
        final_hazard = hazard
        explanation["hazard"] = f"{hazard}: {hazard_word}"
    else:
        final_hazard = "other"
        explanation["hazard"] = "other: 手がかりなし / no cue"
    result = Triage(category, urgency, final_hazard, None, None, None, explanation)
    result.hazard_from_cues = hazard is not None
    if isinstance(place, Place):
        result.town, result.lat, result.lon = place.town, place.lat, place.lon
        explanation["town"] = f"{place.town}: 「{place.evidence}」 ({place.kind})"
    elif isinstance(place, Outside):
        result.outside = True
        explanation["town"] = f"三鷹市外 / outside Mitaka: 「{place.evidence}」"
    else:
        explanation["town"] = "場所の手がかりなし / no place named"
    return result


def _second_look(
    second: perceptron.Perceptron,
    category: str,
    preferred: str,
    model_scores: dict[str, float],
    words: str,
    key: str,
    lower: str,
    pairs: set[str],
) -> tuple[str, str]:
    """The category after the second stage (cityos.sns.second_stage), for a post whose first
    decision is near the rescue boundary, and why; the first stage's otherwise."""
    setting = second.meta
    gate = setting["gate"]
    context: set[str] = set()
    if category in gate["categories"]:  # only then does the gate need the cues of context
        context = _context(key, lower, pairs, set(key), set(_WORD.findall(lower)))
    if not second_stage.gated(category, model_scores, sorted(context), gate):
        return category, preferred
    features = second_stage.word_features(words)
    rescue = second_stage.decide(
        second_stage.score(second, features), second_stage.gap(model_scores), setting
    )
    said = "、".join(second_stage.telling(second, features, rescue)) or "-"
    if rescue:
        return "rescue_request", f"二段目（語）で救助と判断 / second stage (words): rescue: {said}"
    if category == "rescue_request":
        category = max(
            (name for name in model_scores if name != "rescue_request"),
            key=model_scores.__getitem__,
        )
    return category, f"二段目（語）で救助ではないと判断 / second stage (words): not rescue: {said}"


def fill_hazards(results: Sequence[Triage], days: Sequence[str]) -> None:
    """Posts that name no hazard take the hazard most posts of the same day name (a post
    about an outage on an earthquake day is about the earthquake); outages and stoppages on a
    flood day that also has storm posts take the storm (the typhoon, not the water)."""
    by_day: dict[str, Counter[str]] = {}
    for result, day in zip(results, days, strict=True):
        if result.hazard_from_cues and result.category != "not_relevant":
            by_day.setdefault(day, Counter())[result.hazard] += 1
    for result, day in zip(results, days, strict=True):
        if result.hazard_from_cues or result.category == "not_relevant":
            continue
        counts = by_day.get(day)
        if counts:
            hazard = counts.most_common(1)[0][0]
            # On a day of floods and storms, an outage or a stopped train that names no
            # water is the storm's doing.
            if hazard == "flood" and counts["storm"] and result.category == "infrastructure":
                hazard = "storm"
            result.hazard = hazard
            result.explanation["hazard"] = (
                f"{hazard}: 同じ日の投稿の多くが示す災害 / what most posts of the day name"
            )
