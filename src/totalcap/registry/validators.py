"""Validators for registry codes: unified social credit code (GB 32100-2015), outlet codes, MN,
coordinates."""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: GB 32100-2015 code alphabet: digits and upper-case letters without I, O, Z, S, V.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: GB 11714 organisation-code weights (positions 9-16 of the credit code; 17 is its check).
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def credit_check_char(first17: str) -> str:
    """The 18th (check) character of a credit code whose first 17 characters are given."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def org_check_char(body8: str) -> str:
    """GB 11714 check character of an 8-character organisation-code body."""
    total = sum(ORG_ALPHABET.index(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def validate_credit_code(value: str) -> None:
    """Refuse a unified social credit code with a message that names the wrong character."""
    code = (value or "").strip()
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，当前为%(n)d位。"), code="credit_length", params={"n": len(code)}
        )
    for pos, ch in enumerate(code, start=1):
        if ch not in CREDIT_ALPHABET:
            raise ValidationError(
                _("统一社会信用代码第%(pos)d位「%(ch)s」不是有效字符（不使用I、O、Z、S、V及小写字母）。"),
                code="credit_char",
                params={"pos": pos, "ch": ch},
            )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("统一社会信用代码第3至8位应为登记管理机关行政区划码（6位数字），实际为「%(v)s」。"),
            code="credit_region",
            params={"v": code[2:8]},
        )
    expected = credit_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("统一社会信用代码第18位校验码错误：应为「%(exp)s」，实际为「%(got)s」。"),
            code="credit_check",
            params={"exp": expected, "got": code[17]},
        )
    if all(c in ORG_ALPHABET for c in code[8:16]):
        org_expected = org_check_char(code[8:16])
        if code[16] != org_expected:
            raise ValidationError(
                _("统一社会信用代码第17位（组织机构代码校验码）错误：应为「%(exp)s」，实际为「%(got)s」。"),
                code="credit_org_check",
                params={"exp": org_expected, "got": code[16]},
            )


def make_credit_code(prefix2: str, region6: str, org_body8: str) -> str:
    """Build a valid credit code from its parts (used by the demo data and tests)."""
    first17 = prefix2 + region6 + org_body8 + org_check_char(org_body8)
    return first17 + credit_check_char(first17)


OUTLET_CODE_RE = re.compile(r"^(DW|DA|YS)\d{3}$")


def validate_outlet_code(value: str) -> None:
    if not OUTLET_CODE_RE.match(value or ""):
        raise ValidationError(
            _("排放口编码应为DW001（废水）、DA001（废气）或YS001（雨水）格式，实际为「%(v)s」。"),
            code="outlet_code",
            params={"v": value},
        )


MN_RE = re.compile(r"^[A-Za-z0-9_\-]{6,32}$")


def validate_mn(value: str) -> None:
    """MN: 24 hex characters in HJ 212-2017 (EPC-96); 14-character and other forms exist in the
    field, so 6-32 letters, digits, ``_`` or ``-`` are accepted."""
    if not MN_RE.match(value or ""):
        raise ValidationError(
            _(
                "设备唯一标识MN应为6至32位字母、数字、下划线或连字符（HJ 212-2017为24位十六进制），实际为「%(v)s」。"
            ),
            code="mn_format",
            params={"v": value},
        )


#: Rough bounding box of China's territory (CGCS2000 / WGS-84 degrees).
CHINA_LNG = (Decimal("73.40"), Decimal("135.10"))
CHINA_LAT = (Decimal("3.80"), Decimal("53.60"))


def validate_china_coordinates(lng: Decimal | None, lat: Decimal | None) -> dict[str, str]:
    """Errors by field for coordinates that are half given or outside China."""
    errors: dict[str, str] = {}
    if (lng is None) != (lat is None):
        missing = "latitude" if lat is None else "longitude"
        errors[missing] = _("经度和纬度须同时填写。")
        return errors
    if lng is None or lat is None:
        return errors
    if not (CHINA_LNG[0] <= lng <= CHINA_LNG[1]):
        errors["longitude"] = _("经度%(v)s不在中国境内（应在73.40至135.10之间）。") % {"v": lng}
    if not (CHINA_LAT[0] <= lat <= CHINA_LAT[1]):
        errors["latitude"] = _("纬度%(v)s不在中国境内（应在3.80至53.60之间）。") % {"v": lat}
    return errors


PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


def validate_phone(value: str) -> None:
    if not PHONE_RE.match((value or "").replace(" ", "")):
        raise ValidationError(
            _("电话号码格式不正确：应为11位手机号或带区号的固定电话（如0523-86888888），实际为「%(v)s」。"),
            code="phone",
            params={"v": value},
        )
