/* Outlet charts: fetches /api/monitoring/outlets/<id>/series/ and draws it with ECharts.
   Points are coloured by flag / validity, the limit is drawn as a line, substituted hours are
   marked with a diamond, and hours where the logger's own mean disagrees are ringed. */
(function () {
  "use strict";
  var COLORS = { v: "#2e9d5b", s: "#9aa4ae", p: "#4a90d9", i: "#d9534f", m: "#f0ad4e" };
  var FLAG_COLORS = { N: "#2e9d5b", F: "#9aa4ae", M: "#8e44ad", S: "#16a085", D: "#d9534f", C: "#4a90d9",
                      T: "#e67e22", B: "#7f8c8d" };
  function colorOf(p) {
    if (p.status) return COLORS[p.status] || "#666";
    return FLAG_COLORS[p.flag] || "#d9534f";
  }
  function draw(root) {
    var chart = echarts.init(root.querySelector(".tc-chart"));
    var form = root.querySelector("form");
    var status = root.querySelector(".tc-status");
    function load() {
      var params = new URLSearchParams(new FormData(form));
      status.textContent = "加载中…";
      fetch(root.dataset.url + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          if (!res.ok) { status.textContent = res.body.detail || "加载失败"; chart.clear(); return; }
          render(res.body);
          status.textContent = res.body.points.length + " 个数据点";
        })
        .catch(function () { status.textContent = "加载失败"; });
    }
    function render(data) {
      var pts = data.points;
      var values = pts.map(function (p) {
        return { value: [p.t, p.v === null ? null : Number(p.v)], itemStyle: { color: colorOf(p) }, raw: p };
      });
      var series = [{ name: "实测值", type: "line", showSymbol: true, symbolSize: 5, connectNulls: false,
                      data: values, lineStyle: { color: "#5470c6", width: 1 } }];
      if (pts.some(function (p) { return p.zs !== null && p.zs !== undefined; })) {
        series.push({ name: "折算值", type: "line", showSymbol: false, lineStyle: { type: "dashed" },
                      data: pts.map(function (p) { return [p.t, p.zs === null ? null : Number(p.zs)]; }) });
      }
      if (pts.some(function (p) { return p.logger !== null && p.logger !== undefined; })) {
        series.push({ name: "数采仪均值", type: "line", showSymbol: false, lineStyle: { width: 1, opacity: .6 },
                      data: pts.map(function (p) { return [p.t, p.logger === null ? null : Number(p.logger)]; }) });
      }
      var subs = pts.filter(function (p) { return p.substituted || p.filled; });
      if (subs.length) {
        series.push({ name: "修约替代", type: "scatter", symbol: "diamond", symbolSize: 11,
                      itemStyle: { color: "#ffd400", borderColor: "#a07d00" },
                      data: subs.map(function (p) { return [p.t, p.filled !== null && p.filled !== undefined ? Number(p.filled) : (p.v === null ? 0 : Number(p.v))]; }) });
      }
      var mism = pts.filter(function (p) { return p.mismatch; });
      if (mism.length) {
        series.push({ name: "与数采仪不一致", type: "scatter", symbol: "emptyCircle", symbolSize: 14,
                      itemStyle: { color: "#c0392b" }, data: mism.map(function (p) { return [p.t, Number(p.v || 0)]; }) });
      }
      var limit = data.limit && data.limit.value !== null ? Number(data.limit.value) : null;
      if (limit !== null) {
        series[0].markLine = { symbol: "none", lineStyle: { color: "#c0392b" },
                               label: { formatter: "限值 " + data.limit.value }, data: [{ yAxis: Number(data.limit.value) }] };
      }
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis", formatter: function (items) {
          var p = items[0] && items[0].data && items[0].data.raw;
          var lines = items.map(function (i) { return i.marker + i.seriesName + "：" + (i.value[1] === null ? "—" : i.value[1]); });
          if (p) lines.unshift(p.t.replace("T", " ").slice(0, 16) + (p.flag ? "　标记 " + p.flag : "") + (p.kg ? "　排放量 " + p.kg + " kg" : ""));
          return lines.join("<br>");
        } },
        legend: { top: 0 },
        grid: { left: 56, right: 24, top: 36, bottom: 56 },
        xAxis: { type: "time" },
        yAxis: { type: "value", name: data.pollutant.unit || "", scale: true,
                 max: function (v) { return limit === null ? null : Math.max(v.max, limit * 1.05); } },
        dataZoom: [{ type: "inside" }, { type: "slider" }],
        series: series
      }, true);
    }
    form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
    window.addEventListener("resize", function () { chart.resize(); });
    load();
  }
  document.querySelectorAll("[data-chart]").forEach(draw);
})();
