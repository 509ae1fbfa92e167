"""The navigation menu: sections by domain, each item shown only with its permission.

Apps add their items with :func:`add`; the context processor builds the menu per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Item:
    label: str
    url_name: str
    permission: str
    icon: str = "dot"


@dataclass
class Section:
    key: str
    label: str
    order: int
    items: list[Item] = field(default_factory=list)


SECTIONS: dict[str, Section] = {}


def section(key: str, label: str, order: int) -> Section:
    if key not in SECTIONS:
        SECTIONS[key] = Section(key, label, order)
    return SECTIONS[key]


def add(section_key: str, item: Item) -> None:
    """Add a menu item; apps call this from their ``AppConfig.ready()``."""
    sec = SECTIONS[section_key]
    if all(existing.url_name != item.url_name for existing in sec.items):
        sec.items.append(item)


section("registry", "基础信息", 10)
section("permits", "排污许可", 20)
section("monitoring", "在线监测", 30)
section("ingest", "数据接入", 35)
section("quotas", "总量控制", 40)
section("alarms", "报警", 50)
section("reference", "参考数据", 80)
section("audit", "审计", 90)

add("registry", Item("排污单位", "registry:enterprise-list", "registry.view_enterprise", "building"))
add("registry", Item("排放口", "registry:outlet-list", "registry.view_outlet", "box-arrow-right"))
add("registry", Item("数采仪", "registry:datalogger-list", "registry.view_datalogger", "router"))
add("registry", Item("阀门", "registry:valve-list", "registry.view_valve", "toggle-on"))
add("registry", Item("摄像头", "registry:camera-list", "registry.view_camera", "camera-video"))
add(
    "registry",
    Item("联系人", "registry:enterprisecontact-list", "registry.view_enterprisecontact", "telephone"),
)
add("reference", Item("行政区划", "registry:jurisdiction-list", "registry.view_jurisdiction", "map"))
add("reference", Item("行业分类", "registry:industry-list", "registry.view_industry", "diagram-3"))
add("reference", Item("污染物", "registry:pollutant-list", "registry.view_pollutant", "droplet"))
add(
    "reference",
    Item("排放标准", "registry:emissionstandard-list", "registry.view_emissionstandard", "journal-text"),
)
add("audit", Item("领域事件", "web:event-list", "base.view_domainevent", "shield-check"))
