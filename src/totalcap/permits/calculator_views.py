"""The limit calculator wizard (seed 004) and its worksheet exports.

The wizard keeps the case (the CLI's JSON keys) in a hidden field and moves step by step with HTMX
(every step also works as a plain form post): 1 standards, 2 annual volume T, 3 long-term mean C,
4 annual limit Ly, 5 variability and the daily maximum, 6 the worksheet, export and application to a
permit draft. Each step validates its part with the calculator's own parsers, so the messages name
the field exactly as the CLI and the API do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views import generic

from totalcap.base.exceptions import ServiceError
from totalcap.base.views import ScopedMixin
from totalcap.permits import calculator, hooks, services, worksheet
from totalcap.permits import choices as c
from totalcap.permits.models import LimitCalculation, PermitVersion
from totalcap.registry.models import Outlet, Pollutant

STEPS = [
    (1, "标准与浓度限值"),
    (2, "年排水量T"),
    (3, "长期平均浓度C"),
    (4, "年排放量限值Ly"),
    (5, "波动性与日最大排放量"),
    (6, "核定结果"),
]
FIXED_WAYS = ("monitoring", "survey", "statistics", "eia")
STANDARD_ROWS = 5
CUSTOM_WAYS = 2

TIELING_EXAMPLE: dict[str, Any] = {
    "standards": [
        {"name": "DB21/1627-2008 辽宁省污水综合排放标准", "level": "local", "limit_mg_per_l": "50"},
        {"name": "GB 13457-92 肉类加工工业水污染物排放标准", "level": "industry", "limit_mg_per_l": "70"},
    ],
    "benchmark_m3_per_t": "10",
    "annual_production_t": "15000",
    "long_term_mean_mg_per_l": "25",
    "candidate_annual_t": {"monitoring": "9.0", "survey": "6.1"},
    "history_complies": True,
    "selection": "median",
    "selection_reason": "三种途径取中间值（种子004铁岭案例）",
    "cv": "0.71",
}


def parse_series(text: str) -> list[Any]:
    """Numbers from pasted text: separators are commas, semicolons, tabs, spaces and new lines; a token
    that is not a number is an invalid value (kept as None, removed by the calculator)."""
    tokens = [tok for tok in re.split(r"[,，;；、\s]+", text) if tok.strip()]
    values: list[Any] = []
    for tok in tokens:
        try:
            values.append(
                str(float(tok.strip())) if tok.strip().lower() not in {"nan", "inf", "-inf"} else None
            )
        except ValueError:
            values.append(None)
    return values


def parse_upload(upload: Any) -> list[Any]:
    """A column of values from an uploaded CSV / text or Excel file: the last cell of each row; a first
    row that is not numeric is a header."""
    name = (upload.name or "").lower()
    rows: list[list[Any]] = []
    if name.endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        wb = load_workbook(upload, read_only=True, data_only=True)
        sheet = wb.worksheets[0]
        rows = [[cell for cell in row if cell not in (None, "")] for row in sheet.iter_rows(values_only=True)]
    else:
        text = upload.read().decode("utf-8-sig", errors="replace")
        dialect = csv.excel_tab if "\t" in text and "," not in text else csv.excel
        rows = [[cell for cell in row if cell.strip()] for row in csv.reader(io.StringIO(text), dialect)]
    values: list[Any] = []
    for i, row in enumerate(r for r in rows if r):
        cell = row[-1]
        try:
            values.append(str(float(cell)))
        except (TypeError, ValueError):
            if i == 0:
                continue  # header
            values.append(None)
    return values


def _loads(raw: str | None, default: Any) -> Any:
    if not raw:
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return default


def _set(case: dict[str, Any], key: str, value: Any) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        case.pop(key, None)
    else:
        case[key] = value.strip() if isinstance(value, str) else value


class CalculatorMixin(ScopedMixin):
    model = LimitCalculation
    scope_action = "view"

    def subject_objects(self, subject: dict[str, Any]) -> tuple[Outlet | None, Pollutant | None]:
        user = self.request.user
        outlet = pollutant = None
        if str(subject.get("outlet") or "").isdigit():
            outlet = (
                Outlet.objects.restrict(user, "view")
                .select_related("enterprise")
                .filter(pk=int(subject["outlet"]))
                .first()
            )
        if str(subject.get("pollutant") or "").isdigit():
            pollutant = Pollutant.objects.filter(pk=int(subject["pollutant"])).first()
        return outlet, pollutant

    def subject_labels(self, subject: dict[str, Any]) -> dict[str, Any]:
        outlet, pollutant = self.subject_objects(subject)
        user = self.request.user
        return {
            "enterprise": outlet.enterprise.name if outlet else "",
            "outlet": f"{outlet.code} {outlet.name}" if outlet else "",
            "pollutant": str(pollutant) if pollutant else "",
            "user": getattr(user, "full_name", "") or user.get_username(),
            "at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        }


class CalculatorView(CalculatorMixin, generic.View):
    """GET: the first step (``?example=tieling`` pre-fills the seed's case). POST: move between steps."""

    template_name = "permits/calculator.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case: dict[str, Any] = (
            json.loads(json.dumps(TIELING_EXAMPLE)) if request.GET.get("example") == "tieling" else {}
        )
        subject: dict[str, Any] = {}
        for key in ("outlet", "pollutant", "version"):
            if request.GET.get(key, "").isdigit():
                subject[key] = request.GET[key]
        return self.show(1, case, subject, {})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = _loads(request.POST.get("case"), {})
        subject = _loads(request.POST.get("subject"), {})
        if not isinstance(case, dict) or not isinstance(subject, dict):
            case, subject = {}, {}
        try:
            step = max(1, min(6, int(request.POST.get("step", "1"))))
        except ValueError:
            step = 1
        nav = request.POST.get("nav", "next")
        if step < 6:
            self.merge(step, case, subject)
        if nav == "load_standards":
            self.load_standards(case, subject)
            return self.show(1, case, subject, {})
        if nav == "load_series":
            errors = self.load_series(case, subject)
            return self.show(3, case, subject, errors)
        if nav.startswith("goto"):
            target = int(nav[4:]) if nav[4:].isdigit() else step
            if target <= step:
                return self.show(max(1, target), case, subject, {})
        errors = self.validate(step, case)
        if errors:
            return self.show(step, case, subject, errors)
        return self.show(min(step + 1, 6), case, subject, {})

    # --- merging the posted step into the case ---------------------------------------------------

    def merge(self, step: int, case: dict[str, Any], subject: dict[str, Any]) -> None:
        post = self.request.POST
        if step == 1:
            for key in ("outlet", "pollutant"):
                subject[key] = post.get(key, "")
            case["medium"] = post.get("medium") or "water"
            rows = []
            for i in range(int(post.get("std_rows", STANDARD_ROWS) or STANDARD_ROWS)):
                name = post.get(f"std_name_{i}", "").strip()
                limit = post.get(f"std_limit_{i}", "").strip()
                if not name and not limit:
                    continue
                row: dict[str, Any] = {
                    "name": name,
                    "level": post.get(f"std_level_{i}", ""),
                    "limit_mg_per_l": limit,
                }
                ref = post.get(f"std_id_{i}", "")
                if ref.isdigit():
                    row["id"] = int(ref)
                rows.append(row)
            case["standards"] = rows
        elif step == 2:
            for key in (
                "annual_volume_m3",
                "daily_volume_m3",
                "production_days",
                "benchmark_m3_per_t",
                "annual_production_t",
            ):
                _set(case, key, post.get(key))
            _set(case, "volume_source", post.get("volume_source"))
        elif step == 3:
            mode = post.get("c_mode", "mean")
            subject["c_mode"] = mode
            if mode == "mean":
                case.pop("concentrations_mg_per_l", None)
                _set(case, "long_term_mean_mg_per_l", post.get("long_term_mean_mg_per_l"))
            else:
                case.pop("long_term_mean_mg_per_l", None)
                upload = self.request.FILES.get("series_file")
                if upload is not None:
                    case["concentrations_mg_per_l"] = parse_upload(upload)
                elif mode == "series":
                    values = parse_series(post.get("series_text", ""))
                    _set(case, "concentrations_mg_per_l", values or None)
        elif step == 4:
            candidates: dict[str, Any] = {}
            for way in FIXED_WAYS:
                value = post.get(f"way_{way}", "").strip()
                if value:
                    candidates[way] = value
            for i in range(CUSTOM_WAYS):
                name = post.get(f"way_name_{i}", "").strip()
                value = post.get(f"way_value_{i}", "").strip()
                if name or value:
                    candidates[name] = value
            case["candidate_annual_t"] = candidates
            case["history_complies"] = post.get("history_fails") != "on"
            _set(case, "selection", post.get("selection") or "median")
            _set(case, "selection_reason", post.get("selection_reason"))
        elif step == 5:
            mode = post.get("cv_mode", "cv")
            subject["cv_mode"] = mode
            if mode == "cv":
                case.pop("daily_loads_kg", None)
                _set(case, "cv", post.get("cv"))
            else:
                case.pop("cv", None)
                upload = self.request.FILES.get("loads_file")
                values = (
                    parse_upload(upload) if upload is not None else parse_series(post.get("loads_text", ""))
                )
                _set(case, "daily_loads_kg", [v for v in values if v is not None] or None)
            for key in ("percentile", "beta_cap", "tsd_samples_per_month"):
                _set(case, key, post.get(key))

    def load_standards(self, case: dict[str, Any], subject: dict[str, Any]) -> None:
        outlet, pollutant = self.subject_objects(subject)
        if outlet is None or pollutant is None:
            messages.warning(self.request, "请先选择排放口和污染物，再从标准库带出候选标准。")
            return
        rows = services.calculator_standards(outlet, pollutant)
        case["medium"] = outlet.medium
        if not rows:
            messages.warning(
                self.request, f"标准库中没有适用于{outlet.code}「{pollutant.name}」的标准限值，请手工填写。"
            )
            return
        case["standards"] = rows
        messages.info(self.request, f"已从标准库带出{len(rows)}项候选标准（地方→行业→国家综合）。")

    def load_series(self, case: dict[str, Any], subject: dict[str, Any]) -> dict[str, str]:
        outlet, pollutant = self.subject_objects(subject)
        if outlet is None or pollutant is None:
            return {"concentrations_mg_per_l": "请先在第1步选择排放口和污染物。"}
        end = timezone.localdate() - dt.timedelta(days=1)
        series = hooks.valid_series(outlet, pollutant, end - dt.timedelta(days=364), end)
        if series is None:
            return {
                "concentrations_mg_per_l": "在线监测模块尚未提供该排放口的有效数据，请上传或粘贴浓度序列。"
            }
        case.pop("long_term_mean_mg_per_l", None)
        case["concentrations_mg_per_l"] = [str(v) for v in series.concentrations]
        if series.daily_loads_kg:
            case.pop("cv", None)
            case["daily_loads_kg"] = [str(v) for v in series.daily_loads_kg]
            subject["cv_mode"] = "loads"
        subject["c_mode"] = "series"
        return {}

    # --- validation per step -------------------------------------------------------------------

    def validate(self, step: int, case: dict[str, Any]) -> dict[str, str]:
        checks = [
            lambda: calculator.parse_standards(case.get("standards")),
            lambda: calculator.annual_volume(calculator.parse_volume(case)),
            lambda: calculator.parse_mean(case),
            lambda: calculator.select_annual(
                {
                    **calculator.parse_candidates(case.get("candidate_annual_t")),
                    "standard": Decimal(0),
                    "limit": Decimal(0),
                },
                str(case.get("selection") or "median"),
            ),
            lambda: calculator.parse_variability(case),
            lambda: calculator.compute(case),
        ]
        for check in checks[: min(step, 6)]:
            try:
                check()
            except calculator.CaseError as exc:
                return {exc.field: exc.message}
        return {}

    # --- rendering -----------------------------------------------------------------------------

    def show(
        self, step: int, case: dict[str, Any], subject: dict[str, Any], errors: dict[str, str]
    ) -> HttpResponse:
        user = self.request.user
        outlet, pollutant = self.subject_objects(subject)
        standards = list(case.get("standards") or [])
        candidates = case.get("candidate_annual_t") or {}
        custom = [(k, v) for k, v in candidates.items() if k not in FIXED_WAYS]
        context: dict[str, Any] = {
            "step": step,
            "steps": STEPS,
            "case": case,
            "case_json": json.dumps(case, ensure_ascii=False),
            "subject": subject,
            "subject_json": json.dumps(subject, ensure_ascii=False),
            "errors": errors,
            "outlets": Outlet.objects.restrict(user, "view")
            .select_related("enterprise")
            .order_by("enterprise__name", "code"),
            "pollutants": Pollutant.objects.filter(is_flow=False, medium__in=["water", "air"]).order_by(
                "medium", "code"
            ),
            "outlet": outlet,
            "pollutant": pollutant,
            "standard_rows": [
                (i, standards[i] if i < len(standards) else {})
                for i in range(max(STANDARD_ROWS, len(standards) + 1))
            ],
            "levels": [(k, calculator.LEVEL_LABELS[k]) for k in calculator.LEVELS],
            "fixed_ways": [(w, calculator.WAY_LABELS[w], candidates.get(w, "")) for w in FIXED_WAYS],
            "custom_ways": [(i, *(custom[i] if i < len(custom) else ("", ""))) for i in range(CUSTOM_WAYS)],
            "ways": [*candidates, "standard", "limit"],
            "way_labels": calculator.WAY_LABELS,
            "series_text": ", ".join(
                "" if v is None else str(v) for v in case.get("concentrations_mg_per_l") or []
            ),
            "loads_text": ", ".join(str(v) for v in case.get("daily_loads_kg") or []),
            "series_available": hooks.series_available(),
            "volume_sources": [(k, calculator.VOLUME_LABELS[k]) for k in calculator.VOLUME_SOURCES],
            "unit": calculator.CONCENTRATION_UNITS.get(str(case.get("medium") or "water"), "mg/L"),
        }
        if step == 6:
            try:
                context["result"] = calculator.compute(case)
            except calculator.CaseError as exc:
                context["errors"] = {exc.field: exc.message}
                context["step"] = 5
            context["drafts"] = self.editable_versions(outlet)
            context["can_apply"] = user.has_perm("permits.add_limitcalculation")
        template = (
            f"{self.template_name}#wizard" if getattr(self.request, "htmx", False) else self.template_name
        )
        return render(self.request, template, context)

    def editable_versions(self, outlet: Outlet | None) -> list[PermitVersion]:
        user = self.request.user
        qs = (
            PermitVersion.objects.restrict(user, "view")
            .filter(status__in=[*c.APPLICANT_EDITABLE, c.VersionStatus.UNDER_REVIEW])
            .select_related("permit", "permit__enterprise")
        )
        if outlet is not None:
            qs = qs.filter(permit__enterprise=outlet.enterprise)
        return [
            v
            for v in qs.order_by("permit__enterprise__name", "-number")
            if services.can_edit_contents(v, user) is None
        ]


class CalculatorWorksheetView(CalculatorMixin, generic.View):
    """POST the case: the worksheet as Excel (``fmt=xlsx``) or PDF (``fmt=pdf``)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = _loads(request.POST.get("case"), {})
        subject = _loads(request.POST.get("subject"), {})
        try:
            result = calculator.compute(case)
        except calculator.CaseError as exc:
            return HttpResponse(
                f"输入有误：{exc.field}：{exc.message}", status=400, content_type="text/plain; charset=utf-8"
            )
        labels = self.subject_labels(subject if isinstance(subject, dict) else {})
        return worksheet_response(result, labels, request.POST.get("fmt", "xlsx"))


def worksheet_response(result: dict[str, Any], labels: dict[str, Any], fmt: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "pdf":
        response = HttpResponse(worksheet.to_pdf(result, labels), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="limits-worksheet-{stamp}.pdf"'
        return response
    response = HttpResponse(
        worksheet.to_xlsx(result, labels),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="limits-worksheet-{stamp}.xlsx"'
    return response


class CalculatorApplyView(CalculatorMixin, generic.View):
    """Apply the case to the item (outlet × pollutant) of an editable permit version in one action."""

    http_method_names = ["post"]
    scope_action = "add"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = _loads(request.POST.get("case"), {})
        subject = _loads(request.POST.get("subject"), {})
        user = request.user
        version = (
            PermitVersion.objects.restrict(user, "view").filter(pk=request.POST.get("version") or 0).first()
        )
        outlet, pollutant = self.subject_objects(subject if isinstance(subject, dict) else {})
        if version is None or outlet is None or pollutant is None:
            messages.error(request, "请选择许可证版本，并在第1步选择排放口和污染物。")
            return self.back(case, subject)
        try:
            item = services.apply_calculation(user, version, outlet, pollutant, case)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return self.back(case, subject)
        messages.success(
            request,
            f"已将核定结果应用到{version}：{item.outlet.code}「{item.pollutant.name}」年许可排放量{item.annual_t} t/a，"
            f"日最大{item.daily_max_kg} kg/d。",
        )
        return HttpResponseRedirect(version.get_absolute_url() + f"#item-{item.pk}")

    def back(self, case: Any, subject: Any) -> HttpResponse:
        view = CalculatorView()
        view.setup(self.request)
        return view.show(
            6, case if isinstance(case, dict) else {}, subject if isinstance(subject, dict) else {}, {}
        )


class CalculatorSaveView(CalculatorApplyView):
    """Keep the calculation (input and result) without applying it."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        case = _loads(request.POST.get("case"), {})
        subject = _loads(request.POST.get("subject"), {})
        outlet, pollutant = self.subject_objects(subject if isinstance(subject, dict) else {})
        if outlet is None:
            messages.error(request, "请在第1步选择排放口，核定记录须归属排污单位。")
            return self.back(case, subject)
        try:
            calc = services.save_calculation(
                request.user, outlet.enterprise, case, outlet=outlet, pollutant=pollutant
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            return self.back(case, subject)
        messages.success(request, "已保存核定记录。")
        return HttpResponseRedirect(calc.get_absolute_url())


class CalculationWorksheetView(ScopedMixin, generic.View):
    """The worksheet of a saved calculation (``?fmt=xlsx|pdf``)."""

    model = LimitCalculation
    scope_action = "view"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from django.shortcuts import get_object_or_404

        calc = get_object_or_404(LimitCalculation.objects.restrict(request.user, "view"), pk=kwargs["pk"])
        labels = {
            "enterprise": calc.enterprise.name,
            "outlet": f"{calc.outlet.code} {calc.outlet.name}" if calc.outlet else "",
            "pollutant": str(calc.pollutant) if calc.pollutant else "",
            "user": str(calc.created_by or ""),
            "at": timezone.localtime(calc.created_at).strftime("%Y-%m-%d %H:%M"),
        }
        return worksheet_response(calc.result, labels, request.GET.get("fmt", "xlsx"))
