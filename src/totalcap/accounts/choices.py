"""Roles of TotalCap users."""

from django.db import models


class Role(models.TextChoices):
    PROVINCE_REGULATOR = "province_regulator", "省级生态环境部门"
    CITY_REGULATOR = "city_regulator", "市级生态环境部门"
    COUNTY_REGULATOR = "county_regulator", "县级生态环境部门"
    ENTERPRISE = "enterprise", "企业用户"
    OM_CONTRACTOR = "om_contractor", "第三方运维单位"
    AUDITOR = "auditor", "只读审计"
    SYSADMIN = "sysadmin", "系统管理员"
    DEVICE = "device", "设备（数采仪）"


REGULATOR_LEVELS = {
    Role.PROVINCE_REGULATOR: "province",
    Role.CITY_REGULATOR: "city",
    Role.COUNTY_REGULATOR: "county",
}
JURISDICTION_ROLES = {*REGULATOR_LEVELS, Role.AUDITOR}
