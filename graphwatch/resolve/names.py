"""Chinese person and company names, normalised for entity resolution.

Names are evidence, never identity. Each person name yields four comparison keys:

* ``norm``    NFKC, every kind of space removed, middle dots unified, traditional →
              simplified with the official ``opencc`` (陳 小明 / 陈小明 / full-width forms
              all give 陈小明);
* ``pinyin``  tone-less pinyin of ``norm``, one syllable per character, with the surname
              read as a surname (单 shan, 曾 zeng, 解 xie, 仇 qiu, 区 ou, 查 zha, 朴 piao …),
              so a homophone typo (王小明 / 王晓明) keeps its key;
* ``swap``    ``norm`` with a commonly confused surname replaced by one spelling
              (萧→肖, 傅→付, 阎→闫, 於→于) — a weaker level than an exact name;
* ``surname`` the surname (compound surnames such as 欧阳 are two characters).

Company names are normalised for comparison (:func:`company_name_key`): NFKC, simplified,
spaces removed, brackets unified, 有限责任公司 ≡ 有限公司 and 股份有限公司 ≡ 股份公司;
:func:`branch_parent` recognises a branch (分公司, 支行, 营业部 …) and names its parent.

>>> person_keys("陳 小明")
('陈小明', 'chen xiao ming', '陈小明', '陈')
>>> person_keys("單雄信")[1]
'shan xiong xin'
>>> company_name_key("腾讯科技(深圳)有限责任公司")
'腾讯科技(深圳)有限公司'
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["normalise_name", "person_keys", "surname_of", "SURNAME_PINYIN", "SWAPPED_SURNAMES",
           "COMPOUND_SURNAMES", "company_name_key", "branch_parent", "BRANCH_SUFFIXES"]

#: surnames pypinyin reads with their common-word sound (单 dan, 曾 ceng, 解 jie …)
SURNAME_PINYIN = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "查": "zha", "朴": "piao",
    "盖": "ge", "尉": "yu", "乐": "yue", "缪": "miao", "翟": "zhai", "覃": "qin", "召": "shao",
    "员": "yun", "秘": "bi", "繁": "po", "种": "chong", "万俟": "mo qi", "尉迟": "yu chi",
    "单于": "chan yu", "长孙": "zhang sun", "句": "gou", "黑": "he", "宓": "fu", "隗": "wei",
}

#: surname pairs clerks confuse; the second spelling is folded onto the first for ``swap``
SWAPPED_SURNAMES = {"萧": "肖", "傅": "付", "阎": "闫", "於": "于"}

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 夏侯 令狐 宇文 长孙 司徒 端木 澹台 万俟 单于 "
    "轩辕 呼延 南宫 西门 申屠 独孤 闻人 百里 东郭 公羊 赫连 钟离".split())

# spaces NFKC leaves, zero-width characters, and the dots used inside minority names
_DROP = dict.fromkeys(map(ord, " \t\r\n\u00a0\u200b\u200c\u200d\u2060\ufeff\u3000"), None)
_DOTS = dict.fromkeys(map(ord, "•・．.∙⋅‧"), "·")


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc   # the official OpenCC wheel (Apache-2.0); see docs on why not hanziconv

    return opencc.OpenCC("t2s")


def normalise_name(raw: str | None) -> str | None:
    """NFKC, spaces dropped, dots unified, traditional → simplified. ``None`` for blanks.

    >>> normalise_name("  陳\u3000小明 "), normalise_name("ＡＢＣ 公司"), normalise_name("  ")
    ('陈小明', 'ABC公司', None)
    """
    if raw is None:
        return None
    s = unicodedata.normalize("NFKC", str(raw)).translate(_DROP).translate(_DOTS)
    s = "".join(s.split())
    if not s:
        return None
    return _t2s().convert(s)


def surname_of(norm: str) -> str:
    """The surname of a normalised name: a compound surname (欧阳) or the first character."""
    return norm[:2] if norm[:2] in COMPOUND_SURNAMES else norm[:1]


@functools.lru_cache(maxsize=65536)
def _char_pinyin(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(ch, style=Style.NORMAL, errors=lambda x: list(x))[0].lower()


def _pinyin(norm: str) -> str:
    sur = surname_of(norm)
    head = SURNAME_PINYIN.get(sur) or " ".join(_char_pinyin(c) for c in sur)
    rest = [_char_pinyin(c) for c in norm[len(sur):] if c != "·"]
    return " ".join([head, *rest])


def person_keys(raw: str | None) -> tuple[str, str, str, str] | None:
    """``(norm, pinyin, swap, surname)`` of a person's name, or ``None`` for a blank name."""
    norm = normalise_name(raw)
    if norm is None:
        return None
    sur = surname_of(norm)
    swap = SWAPPED_SURNAMES.get(sur, sur) + norm[len(sur):]
    return norm, _pinyin(norm), swap, sur


# --- companies ----------------------------------------------------------------------------

#: a branch's name ends with one of these after its parent's full name
BRANCH_SUFFIXES = ("分公司", "支公司", "分店", "支行", "分行", "营业部", "营业所", "分理处", "办事处", "分部", "分厂")
_FORMS = [("股份有限公司", "股份公司"), ("有限责任公司", "有限公司")]
_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")"})


def company_name_key(raw: str | None) -> str | None:
    """A company name as compared: NFKC, simplified, no spaces, ``()`` brackets, legal form folded.

    >>> company_name_key("长沙 宏达建筑有限责任公司") == company_name_key("長沙宏達建築有限公司")
    True
    """
    s = normalise_name(raw)
    if s is None:
        return None
    s = s.translate(_BRACKETS)
    for long, short in _FORMS:
        s = s.replace(long, short)
    return s


def branch_parent(key: str) -> str | None:
    """The parent's name key if ``key`` (from :func:`company_name_key`) names a branch.

    A branch's name is its parent's full name, maybe a place, then a branch word:
    ``宏达建筑有限公司长沙分公司`` → ``宏达建筑有限公司``.

    >>> branch_parent(company_name_key("中国农业银行股份有限公司岳阳支行"))
    '中国农业银行股份公司'
    >>> branch_parent("宏达建筑有限公司") is None
    True
    """
    for suffix in BRANCH_SUFFIXES:
        if key.endswith(suffix):
            m = re.match(r"(.+(?:有限公司|股份公司|公司|集团|银行))", key[: -len(suffix)])
            if m:
                return m.group(1)
    return None
