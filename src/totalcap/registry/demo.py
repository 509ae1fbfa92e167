"""Demo data: Taizhou (泰州市) with its districts, 32 enterprises of the seeds' industries with
outlets, loggers, valves, cameras and contacts, and one user per role.

Deterministic and idempotent: objects are found by their natural keys (credit code, outlet code,
MN, user name); a second run creates nothing and changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction

from totalcap.accounts.choices import Role
from totalcap.accounts.models import User
from totalcap.base import events
from totalcap.registry import choices as c
from totalcap.registry.models import (
    Camera,
    DataLogger,
    EmissionStandard,
    Enterprise,
    EnterpriseContact,
    Industry,
    Jurisdiction,
    Outlet,
    Pollutant,
    Valve,
)
from totalcap.registry.services import load_reference_data
from totalcap.registry.validators import CREDIT_ALPHABET, ORG_ALPHABET, make_credit_code, org_check_char

DEMO_PASSWORD = "TotalCap@2026"

DISTRICTS = {
    "321202": ("海陵", Decimal("119.92"), Decimal("32.49")),
    "321203": ("高港", Decimal("119.88"), Decimal("32.32")),
    "321204": ("姜堰", Decimal("120.13"), Decimal("32.51")),
    "321281": ("兴化", Decimal("119.85"), Decimal("32.94")),
    "321282": ("靖江", Decimal("120.27"), Decimal("32.02")),
    "321283": ("泰兴", Decimal("120.05"), Decimal("32.17")),
}

WATER = ["w00000", "w01018", "w21003", "w01001", "w21011"]
AIR = ["a00000", "a34013", "a21026", "a21002", "a19001", "a01012", "a01013", "a01014"]

# (industry, name template, media, standard by medium, source type, discharge mode)
KINDS: list[dict[str, Any]] = [
    {"industry": "4411", "name": "{d}华能热电有限公司", "media": ["air", "water"],
     "std": {"air": "GB 13223-2011", "water": "GB 8978-1996"}, "source": "燃煤锅炉"},
    {"industry": "4412", "name": "{d}协鑫热电联产有限公司", "media": ["air"],
     "std": {"air": "GB 13223-2011"}, "source": "燃煤锅炉"},
    {"industry": "3011", "name": "{d}海螺水泥有限责任公司", "media": ["air"],
     "std": {"air": "GB 4915-2013"}, "source": "水泥窑及窑尾余热利用系统"},
    {"industry": "2221", "name": "{d}金光纸业有限公司", "media": ["water"],
     "std": {"water": "GB 3544-2008"}, "source": "造纸企业"},
    {"industry": "1352", "name": "{d}禽业食品有限公司", "media": ["water"],
     "std": {"water": "GB 13457-92"}, "source": "禽类屠宰"},
    {"industry": "2614", "name": "{d}精细化工有限公司", "media": ["water", "air"],
     "std": {"water": "GB/T 31962-2015", "air": "GB 13223-2011"}, "source": "燃气锅炉", "mode": "indirect"},
    {"industry": "2621", "name": "{d}化肥有限公司", "media": ["water"],
     "std": {"water": "GB 8978-1996"}, "source": ""},
    {"industry": "1713", "name": "{d}印染有限公司", "media": ["water"],
     "std": {"water": "GB 8978-1996"}, "source": ""},
]  # fmt: skip

SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高梁郑罗宋谢唐韩"
GIVEN = "建国伟强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华敏静丽"


@dataclass
class DemoResult:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def _org_body(rng: random.Random) -> str:
    alphabet = [ch for ch in ORG_ALPHABET if ch in CREDIT_ALPHABET]
    while True:
        body = "".join(rng.choice(alphabet) for _ in range(8))
        if org_check_char(body) in CREDIT_ALPHABET:
            return body


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def load_demo(*, quiet: bool = False) -> DemoResult:
    """Load reference data and the Taizhou demo; returns what was created and the logins."""
    result = DemoResult()
    load_reference_data()
    rng = random.Random(212)
    counts = dict.fromkeys(("enterprises", "outlets", "loggers", "valves", "cameras", "contacts", "users"), 0)
    with transaction.atomic():
        pollutants = {p.code: p for p in Pollutant.objects.all()}
        standards = {s.code: s for s in EmissionStandard.objects.all()}
        industries = {i.code: i for i in Industry.objects.all()}
        districts = {j.code: j for j in Jurisdiction.objects.filter(code__in=DISTRICTS)}
        enterprises: list[Enterprise] = []
        district_codes = list(DISTRICTS)
        for n in range(32):
            kind = KINDS[n % len(KINDS)]
            dcode = district_codes[n % len(district_codes)]
            dname, lng0, lat0 = DISTRICTS[dcode]
            body = _org_body(rng)
            credit = make_credit_code("91", dcode, body)
            suffix = "" if n < len(KINDS) * len(district_codes) // 2 else "二厂"
            name = (
                kind["name"].format(d=f"泰州{dname}") if n % 2 == 0 else kind["name"].format(d=f"江苏{dname}")
            )
            name = name.replace("有限公司", f"{suffix}有限公司") if suffix else name
            lng = lng0 + Decimal(rng.randint(-400, 400)) / 10000
            lat = lat0 + Decimal(rng.randint(-400, 400)) / 10000
            enterprise, created = Enterprise.objects.get_or_create(
                credit_code=credit,
                defaults={
                    "name": name,
                    "short_name": name.replace("有限责任公司", "").replace("有限公司", "")[:32],
                    "address": f"江苏省泰州市{dname}{'经济开发区' if n % 3 else '工业园区'}{rng.randint(1, 199)}号",
                    "longitude": lng,
                    "latitude": lat,
                    "industry": industries[kind["industry"]],
                    "jurisdiction": districts[dcode],
                    "management_class": c.ManagementClass.KEY if n % 5 else c.ManagementClass.SIMPLIFIED,
                    "legal_representative": _person(rng),
                },
            )
            counts["enterprises"] += int(created)
            enterprises.append(enterprise)
            counts["contacts"] += _contacts(enterprise, rng)
            for idx, medium in enumerate(kind["media"], start=1):
                counts_o = _outlet(enterprise, medium, idx, kind, lng, lat, rng, pollutants, standards)
                for key, value in counts_o.items():
                    counts[key] += value
        counts["users"] = _users(result, enterprises)
        if any(counts.values()):
            events.record(None, ("registry.demo", "taizhou"), "demo_data_loaded", counts)
    result.created = counts
    if not quiet:
        print("demo data:", counts)
    return result


def _contacts(enterprise: Enterprise, rng: random.Random) -> int:
    name1, name2 = _person(rng), _person(rng)
    phone1, phone2 = _phone(rng), _phone(rng)
    created = 0
    if not enterprise.contacts.exists():
        EnterpriseContact.objects.create(
            enterprise=enterprise, name=name1, title="环保负责人", phone=phone1, is_primary=True
        )
        EnterpriseContact.objects.create(
            enterprise=enterprise, name=name2, title="法定代表人", phone=phone2, receives_alarms=False
        )
        created = 2
    return created


def _outlet(
    enterprise: Enterprise,
    medium: str,
    idx: int,
    kind: dict[str, Any],
    lng: Decimal,
    lat: Decimal,
    rng: random.Random,
    pollutants: dict[str, Pollutant],
    standards: dict[str, EmissionStandard],
) -> dict[str, int]:
    counts = {"outlets": 0, "loggers": 0, "valves": 0, "cameras": 0}
    code = f"{'DW' if medium == 'water' else 'DA'}001"
    outlet, created = Outlet.objects.get_or_create(
        enterprise=enterprise,
        code=code,
        defaults={
            "name": "废水总排口" if medium == "water" else "锅炉/窑尾烟囱",
            "medium": medium,
            "category": c.OutletCategory.MAIN,
            "discharge_mode": kind.get("mode", "direct") if medium == "water" else "direct",
            "destination": ("泰州市城东污水处理厂" if kind.get("mode") == "indirect" else "通南河")
            if medium == "water"
            else "大气",
            "source_type": kind["source"] if medium == "air" else "",
            "longitude": lng + Decimal("0.0005") * idx,
            "latitude": lat,
        },
    )
    if created:
        counts["outlets"] += 1
        std = standards.get(kind["std"][medium])
        if std:
            outlet.standards.add(std)
    # A deterministic MN per enterprise and outlet: 24 hex characters (EPC-96 form).
    mn = f"3212{enterprise.credit_code[2:8]}{int(enterprise.pk):06X}{idx:02X}{0 if medium == 'water' else 1:06X}"[
        :24
    ]
    mn = mn.upper().ljust(24, "0")
    total_control = medium == "water"
    logger, created = DataLogger.objects.get_or_create(
        mn=mn,
        defaults={
            "name": f"{enterprise.short_name}{'总量控制仪' if total_control else '数采仪'}",
            "outlet": outlet,
            "password": "123456",
            "protocol_version": c.ProtocolVersion.V2017,
            "system_code": "32" if medium == "water" else "31",
            "is_total_control": total_control,
            "manufacturer": rng.choice(["江苏天瑞", "聚光科技", "雪迪龙", "先河环保"]),
        },
    )
    if created:
        counts["loggers"] += 1
        codes = WATER if medium == "water" else AIR
        logger.pollutants.set([pollutants[p] for p in codes if p in pollutants])
    if medium == "water":
        _valve, created = Valve.objects.get_or_create(
            logger=logger,
            code="V01",
            defaults={"outlet": outlet, "name": "总排口电动阀", "state": c.ValveState.OPEN},
        )
        counts["valves"] += int(created)
    _cam, created = Camera.objects.get_or_create(
        enterprise=enterprise,
        code=f"CAM-{code}",
        defaults={
            "outlet": outlet,
            "name": f"{code}站房门禁摄像头",
            "location": c.CameraLocation.STATION_DOOR,
        },
    )
    counts["cameras"] += int(created)
    return counts


def _users(result: DemoResult, enterprises: list[Enterprise]) -> int:
    j = {x.code: x for x in Jurisdiction.objects.filter(code__in=["320000", "321200", "321202", "321204"])}
    first_hailing = next(e for e in enterprises if e.jurisdiction.code == "321202")
    specs: list[tuple[str, str, str, dict[str, Any]]] = [
        ("admin", "系统管理员", Role.SYSADMIN, {"is_staff": True, "is_superuser": True}),
        ("jiangsu", "省厅 赵处长", Role.PROVINCE_REGULATOR, {"jurisdiction": j["320000"]}),
        ("taizhou", "泰州市局 钱科长", Role.CITY_REGULATOR, {"jurisdiction": j["321200"]}),
        ("hailing", "海陵分局 孙科员", Role.COUNTY_REGULATOR, {"jurisdiction": j["321202"]}),
        ("jiangyan", "姜堰分局 李科员", Role.COUNTY_REGULATOR, {"jurisdiction": j["321204"]}),
        ("qiye", f"{first_hailing.short_name} 环保专员", Role.ENTERPRISE, {"enterprise": first_hailing}),
        ("yunwei", "运维公司 周工", Role.OM_CONTRACTOR, {}),
        ("shenji", "审计 吴审计员", Role.AUDITOR, {"jurisdiction": j["321200"]}),
    ]
    created = 0
    for username, full_name, role, extra in specs:
        result.logins.append((username, DEMO_PASSWORD, Role(role).label))
        if User.objects.filter(username=username).exists():
            continue
        user = User(username=username, full_name=full_name, role=role, **extra)
        user.set_password(DEMO_PASSWORD)
        user.full_clean()
        user.save()
        if role == Role.OM_CONTRACTOR:
            user.served_enterprises.set(enterprises[:6])
        created += 1
    return created
