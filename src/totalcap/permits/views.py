"""Permit pages: lists, details, life-cycle actions, contents editing, reports and reminders.

Every page stands on the base views (login, permission, scope); writes call the services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import generic

from totalcap.base.exceptions import PermissionRefused, ServiceError
from totalcap.base.scope import permission_name
from totalcap.base.views import ScopedDetailView, ScopedListView, ScopedMixin
from totalcap.permits import choices as c
from totalcap.permits import filtersets as f
from totalcap.permits import forms, schedule, services
from totalcap.permits import tables as t
from totalcap.permits.models import (
    ExecutionReport,
    LimitCalculation,
    Permit,
    PermitItem,
    PermitVersion,
    Reminder,
    ReportRule,
    SpecialPeriodLimit,
)
from totalcap.permits.transitions import PERMIT_TABLE, REASON_REQUIRED, REPORT_TABLE, VERSION_TABLE


def scoped(model: Any, user: Any, pk: Any, action: str = "view") -> Any:
    """The object if ``user`` may ``action`` it; 404 otherwise (the base views' rule)."""
    return get_object_or_404(model.objects.restrict(user, action), pk=pk)


# --- permits -------------------------------------------------------------------------------------


class PermitListView(ScopedListView):
    model = Permit
    table_class = t.PermitTable
    filterset_class = f.PermitFilterSet
    template_name = "permits/permit_list.html"

    def get_queryset(self) -> Any:
        return (
            super()
            .get_queryset()
            .select_related("enterprise", "enterprise__jurisdiction")
            .annotate(open_reminders=Count("reminders", filter=Q(reminders__resolved_at__isnull=True)))
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = False  # applications start from the dedicated page
        context["can_apply"] = self.request.user.has_perm("permits.add_permit")
        return context


class PermitDetailView(ScopedDetailView):
    model = Permit
    template_name = "permits/permit_detail.html"

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("enterprise", "current_version", "issuing_authority")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        permit: Permit = self.object
        user = self.request.user
        current = permit.current_version
        context.update(
            versions=permit.versions.order_by("-number"),
            current=current,
            items=current.items.select_related("outlet", "pollutant") if current else [],
            specials=current.special_limits.select_related("outlet", "pollutant") if current else [],
            totals=services.plant_totals(current) if current else [],
            open_version=permit.open_version,
            actions=PERMIT_TABLE.available(permit, user),
            reason_required=REASON_REQUIRED["permit"],
            reports=permit.reports.order_by("-due_date")[:12],
            reminders=schedule.open_reminders(permit),
            renewal_due=services.renewal_due(permit),
            can_apply_more=user.has_perm("permits.add_permitversion") and permit.open_version is None,
            change_form=forms.ChangeForm(),
            renewal_form=forms.RenewalForm(),
            reapply_form=forms.ReapplyForm(),
            in_force=permit.status in c.IN_FORCE,
        )
        return context


class PermitCreateView(ScopedMixin, generic.FormView):
    """Open a permit application (the enterprise user)."""

    model = Permit
    scope_action = "add"
    form_class = forms.ApplicationForm
    template_name = "permits/application_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        enterprise = getattr(self.request.user, "enterprise", None)
        return {"enterprise": enterprise.pk} if enterprise is not None else {}

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            permit = services.open_application(
                self.request.user,
                form.cleaned_data["enterprise"],
                management_class=form.cleaned_data.get("management_class") or None,
                reason=form.cleaned_data.get("reason", ""),
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, "已创建许可申请草稿，请填写许可排放限值后提交。")
        version = permit.versions.get()
        return HttpResponseRedirect(version.get_absolute_url())


class ObjectActionView(ScopedMixin, generic.View):
    """POST-only action on one scoped object: 404 outside scope, errors shown as messages."""

    http_method_names = ["post"]
    scope_action = "view"

    def get_object(self) -> Any:
        return scoped(self.model, self.request.user, self.kwargs["pk"], self.scope_action)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        try:
            target = self.perform(obj)
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(self.back_url(obj))
        return HttpResponseRedirect(self.success_url(target) if target is not None else self.back_url(obj))

    def perform(self, obj: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def back_url(self, obj: Any) -> str:
        return str(obj.get_absolute_url())

    def success_url(self, target: Any) -> str:
        return str(target.get_absolute_url())


class TransitionView(ObjectActionView):
    table: Any
    table_kind: str
    service: Any

    def perform(self, obj: Any) -> Any:
        form = forms.TransitionForm(self.request.POST)
        form.is_valid()
        action = self.kwargs["action"]
        if action not in self.table.actions():
            raise Http404("no such action")
        result = type(self).service(
            self.request.user, obj, action, {"reason": form.cleaned_data.get("reason", "")}
        )
        label = next(tr.label for tr in self.table.transitions if tr.action == action)
        messages.success(self.request, f"已{label}。")
        return result


class PermitTransitionView(TransitionView):
    model = Permit
    table = PERMIT_TABLE
    service = staticmethod(services.transition_permit)


class PermitApplyView(ObjectActionView):
    """Start a change, a renewal or a re-application (a new draft version)."""

    model = Permit

    def perform(self, obj: Permit) -> PermitVersion:
        kind = self.kwargs["kind"]
        user = self.request.user
        if kind == "change":
            form: Any = forms.ChangeForm(self.request.POST)
            if not form.is_valid():
                raise ServiceError(
                    "；".join(e for errs in form.errors.values() for e in errs), code="invalid"
                )
            version = services.start_change(
                user, obj, reason=form.cleaned_data["reason"], fact_date=form.cleaned_data["fact_date"],
                management_class=form.cleaned_data.get("management_class") or None,
            )  # fmt: skip
        elif kind == "renewal":
            form = forms.RenewalForm(self.request.POST)
            form.is_valid()
            version = services.start_renewal(user, obj, reason=form.cleaned_data.get("reason", ""))
        elif kind == "reapply":
            form = forms.ReapplyForm(self.request.POST)
            if not form.is_valid():
                raise ServiceError("请说明重新申请的原因。", code="reason_required")
            version = services.start_reapplication(user, obj, reason=form.cleaned_data["reason"])
        else:
            raise Http404("no such application")
        messages.success(self.request, f"已创建第{version.number}版（{version.get_kind_display()}）草稿。")
        return version


# --- versions ------------------------------------------------------------------------------------


class PermitVersionListView(ScopedListView):
    model = PermitVersion
    table_class = t.PermitVersionTable
    filterset_class = f.PermitVersionFilterSet

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("permit", "permit__enterprise")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = False
        return context


class PermitVersionDetailView(ScopedDetailView):
    model = PermitVersion
    template_name = "permits/version_detail.html"

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("permit", "permit__enterprise", "based_on")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        version: PermitVersion = self.object
        user = self.request.user
        previous = services.previous_issued(version)
        edit_problem = services.can_edit_contents(version, user)
        context.update(
            permit=version.permit,
            items=version.items.select_related("outlet", "pollutant", "calculation"),
            specials=version.special_limits.select_related("outlet", "pollutant"),
            totals=services.plant_totals(version),
            actions=VERSION_TABLE.available(version, user),
            reason_required=REASON_REQUIRED["version"],
            previous=previous,
            diff=services.diff_versions(previous, version) if previous else None,
            can_edit=edit_problem is None and user.has_perm("permits.change_permititem"),
            can_add_item=edit_problem is None and user.has_perm("permits.add_permititem"),
            can_delete_item=edit_problem is None and user.has_perm("permits.delete_permititem"),
            can_edit_special=edit_problem is None and user.has_perm("permits.change_specialperiodlimit"),
            can_add_special=edit_problem is None and user.has_perm("permits.add_specialperiodlimit"),
            edit_problem=edit_problem,
            problems=services.contents_problems(version) if version.status in c.OPEN_VERSION_STATES else [],
        )
        return context


class PermitVersionTransitionView(TransitionView):
    model = PermitVersion
    table = VERSION_TABLE
    service = staticmethod(services.transition_version)


class PermitVersionDiffView(ScopedDetailView):
    """Differences between two versions of the same permit (``?against=<version id>``)."""

    model = PermitVersion
    template_name = "permits/version_diff.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        version: PermitVersion = self.object
        others = version.permit.versions.exclude(pk=version.pk).order_by("-number")
        against_id = self.request.GET.get("against")
        against: PermitVersion | None = None
        if against_id and against_id.isdigit():
            against = others.filter(pk=int(against_id)).first()
        against = against or services.previous_issued(version)
        diff = None
        if against is not None:
            old, new = (version, against) if against.number > version.number else (against, version)
            diff = services.diff_versions(old, new)
        context.update(others=others, against=against, diff=diff)
        return context


# --- items and special-period limits ----------------------------------------------------------------


class VersionChildFormView(ScopedMixin, generic.FormView):
    """Create or edit an item or special-period limit of a version the user may see."""

    template_name = "permits/child_form.html"
    saver: Any
    object: Any = None

    def setup_objects(self) -> None:
        user = self.request.user
        if "pk" in self.kwargs:
            self.object = scoped(self.model, user, self.kwargs["pk"], self.scope_action)
            self.version = self.object.version
        else:
            self.version = scoped(PermitVersion, user, self.kwargs["version"])
            self.object = self.model(version=self.version)

    def get_form_kwargs(self) -> dict[str, Any]:
        self.setup_objects()
        kwargs: dict[str, Any] = super().get_form_kwargs()
        kwargs.update(user=self.request.user, version=self.version, instance=self.object)
        if self.scope_action == "add":
            kwargs["initial"] = {k: v for k, v in self.request.GET.items() if k in ("outlet", "pollutant")}
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            version=self.version,
            object=self.object if self.object is not None and self.object.pk else None,
            model_name=self.model._meta.verbose_name,
            problem=services.can_edit_contents(self.version, self.request.user),
        )
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            type(self).saver(self.request.user, form.instance, write=lambda _o: form.save())
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, "已保存。")
        return HttpResponseRedirect(self.version.get_absolute_url())


class PermitItemCreateView(VersionChildFormView):
    model = PermitItem
    scope_action = "add"
    form_class = forms.PermitItemForm
    saver = staticmethod(services.save_item)


class PermitItemUpdateView(PermitItemCreateView):
    scope_action = "change"


class SpecialCreateView(VersionChildFormView):
    model = SpecialPeriodLimit
    scope_action = "add"
    form_class = forms.SpecialPeriodLimitForm
    saver = staticmethod(services.save_special)


class SpecialUpdateView(SpecialCreateView):
    scope_action = "change"


class PermitItemDeleteView(ObjectActionView):
    model = PermitItem
    scope_action = "delete"

    def perform(self, obj: PermitItem) -> PermitVersion:
        services.delete_item(self.request.user, obj)
        messages.success(self.request, "已删除。")
        return obj.version


class SpecialDeleteView(ObjectActionView):
    model = SpecialPeriodLimit
    scope_action = "delete"

    def perform(self, obj: SpecialPeriodLimit) -> PermitVersion:
        services.delete_special(self.request.user, obj)
        messages.success(self.request, "已删除。")
        return obj.version


# --- execution reports, reminders, rules, calculations -----------------------------------------------


class ExecutionReportListView(ScopedListView):
    model = ExecutionReport
    table_class = t.ExecutionReportTable
    filterset_class = f.ExecutionReportFilterSet

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("permit", "permit__enterprise")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = False
        return context


class ExecutionReportDetailView(ScopedDetailView):
    model = ExecutionReport
    template_name = "permits/report_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        report: ExecutionReport = self.object
        user = self.request.user
        context.update(
            actions=REPORT_TABLE.available(report, user),
            reason_required=REASON_REQUIRED["report"],
            can_edit=user.has_perm("permits.change_executionreport")
            and report.status in (c.ReportStatus.PENDING, c.ReportStatus.RETURNED),
        )
        return context


class ExecutionReportUpdateView(ScopedMixin, generic.UpdateView):
    model = ExecutionReport
    scope_action = "change"
    form_class = forms.ExecutionReportForm
    template_name = "base/form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            schedule.save_report(self.request.user, form.instance, write=lambda _o: form.save())
        except ServiceError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, "已保存。")
        return HttpResponseRedirect(self.object.get_absolute_url())


class ExecutionReportTransitionView(TransitionView):
    model = ExecutionReport
    table = REPORT_TABLE
    service = staticmethod(schedule.transition_report)


class ReminderListView(ScopedListView):
    model = Reminder
    table_class = t.ReminderTable
    filterset_class = f.ReminderFilterSet

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("permit", "permit__enterprise")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = False
        return context


class ReportRuleListView(ScopedListView):
    model = ReportRule
    table_class = t.ReportRuleTable
    filterset_class = f.ReportRuleFilterSet

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = False
        return context


class ReportRuleDetailView(ScopedDetailView):
    model = ReportRule


class LimitCalculationListView(ScopedListView):
    model = LimitCalculation
    table_class = t.LimitCalculationTable
    filterset_class = f.LimitCalculationFilterSet

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("enterprise", "outlet", "pollutant", "created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = False
        return context


class LimitCalculationDetailView(ScopedDetailView):
    model = LimitCalculation
    template_name = "permits/calculation_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["result"] = self.object.result
        context["items"] = self.object.items.select_related("version", "outlet", "pollutant")
        return context


def can(user: Any, model: Any, action: str) -> bool:
    return bool(user.has_perm(permission_name(model, action)))


def version_url(version: PermitVersion) -> str:
    return reverse("permits:permitversion-detail", args=[version.pk])
