// The console's pages, drawn in the browser from the console's JSON routes. Plain script (no
// build step, no modules): the server embeds this file as it is. Pages refresh themselves
// every few seconds; the logs page streams.
"use strict";
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const main = document.getElementById("page");

  /** An element: `attrs` holds properties (`text`, `class`, `on<event>`, `data-*`, others). */
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") el.textContent = String(v);
      else if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    el.append(...children.flat().filter((c) => c !== null && c !== undefined));
    return el;
  }

  /** Calls a console route; an answer that is not 2xx throws with the route's message. */
  async function api(path, { method = "GET", body, signal } = {}) {
    const headers = {};
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
    if (res.status === 401) {
      location.assign("/login");
      throw new Error("Logged out");
    }
    const json = (res.headers.get("content-type") || "").includes("json");
    const data = json ? await res.json() : await res.text();
    if (!res.ok) {
      const e = json ? data.error?.message ?? data.error ?? data.errors?.join("; ") : data;
      throw new Error(typeof e === "string" ? e : JSON.stringify(data));
    }
    return data;
  }

  const fmtNumber = (n) =>
    typeof n === "number" ? n.toLocaleString("en-US", { maximumFractionDigits: 3 }) : String(n);
  const fmtBytes = (n) => {
    if (typeof n !== "number") return "–";
    const units = ["B", "KiB", "MiB", "GiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
    return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
  };
  const fmtSeconds = (s) => {
    s = Math.floor(s);
    const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    return d ? `${d}d ${hh}h ${m}m` : hh ? `${hh}h ${m}m` : `${m}m ${s % 60}s`;
  };
  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + (Number(b) || 0), 0);

  const table = (head, rows, attrs = {}) =>
    h(
      "table",
      attrs,
      h("thead", {}, h("tr", {}, head.map((t) => h("th", { text: t })))),
      h(
        "tbody",
        {},
        rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c instanceof Node ? c : String(c))))),
      ),
    );
  const pairs = (entries) =>
    h(
      "dl",
      {},
      entries.flatMap((
        [k, v],
      ) => [h("dt", { text: k }), h("dd", {}, v instanceof Node ? v : String(v))]),
    );
  const section = (title, ...body) => h("section", {}, h("h2", { text: title }), ...body);
  const errorLine = () => h("p", { class: "error", role: "alert" });

  /** Runs `fn` now and every `ms` until the page is left; errors go to `err`. */
  function live(fn, err, ms = 2000) {
    let stopped = false;
    let timer;
    const tick = async () => {
      try {
        await fn();
        err.textContent = "";
      } catch (e) {
        err.textContent = e.message;
      }
      if (!stopped) timer = setTimeout(tick, ms);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  // ---- Overview ----------------------------------------------------------------------------
  function overview(root) {
    const box = h("div");
    const err = errorLine();
    root.append(h("h1", { text: "Overview" }), err, box);
    return live(async () => {
      const [s, health] = await Promise.all([
        api("/api/agent/status?format=json"),
        api("/api/agent/status/health"),
      ]);
      const fw = s.forwarderStats || {};
      const dsd = s.dogstatsdStats;
      const ok = health.Unhealthy.length === 0;
      box.replaceChildren(
        h(
          "div",
          { class: "cards" },
          h(
            "div",
            { class: `card ${ok ? "ok" : "bad"}`, "data-testid": "health" },
            ok ? "Healthy" : "Unhealthy",
          ),
          h("div", { class: "card" }, h("small", { text: "version" }), s.version),
          h(
            "div",
            { class: "card" },
            h("small", { text: "uptime" }),
            fmtSeconds((s.time_nano - s.agent_start_nano) / 1e9),
          ),
          h(
            "div",
            { class: "card" },
            h("small", { text: "hostname" }),
            s.hostnameStats?.hostname || "–",
          ),
        ),
        section(
          "Components",
          pairs([
            ["Healthy", health.Healthy.sort().join(", ") || "–"],
            ["Unhealthy", health.Unhealthy.sort().join(", ") || "–"],
          ]),
        ),
        section(
          "Forwarder",
          pairs([
            [
              "Queued in memory",
              `${fw.queue_transactions_memory ?? 0} (${fmtBytes(fw.queue_bytes_memory)})`,
            ],
            [
              "Queued on disk",
              `${fw.queue_transactions_disk ?? 0} (${fmtBytes(fw.queue_bytes_disk)})`,
            ],
            ["Oldest queued", fw.oldest_queued_age_s == null ? "–" : `${fw.oldest_queued_age_s} s`],
          ]),
          table(
            ["Endpoint", "Sent", "Errors", "Retries", "Dropped", "Last error"],
            Object.entries(fw.endpoints || {}).map(([url, e]) => [
              url,
              e.successes,
              e.errors,
              e.retries,
              e.dropped,
              e.last_error ? `${e.last_error.message ?? JSON.stringify(e.last_error)}` : "–",
            ]),
          ),
        ),
        section(
          "DogStatsD",
          dsd
            ? pairs([
              ["Packets", `${fmtNumber(sum(dsd.packets))} (${fmtBytes(sum(dsd.bytes))})`],
              ["Metrics", fmtNumber(dsd.messages?.metric ?? 0)],
              ["Parse errors", fmtNumber(sum(dsd.parse_errors))],
              ["Kernel drops", fmtNumber(sum(dsd.kernel_drops))],
              ["Queue drops", fmtNumber(sum(dsd.queue_dropped_packets))],
            ])
            : h("p", { text: "DogStatsD is not running (use_dogstatsd: false)." }),
        ),
      );
    }, err);
  }

  // ---- DogStatsD ---------------------------------------------------------------------------
  function dogstatsd(root) {
    const box = h("div");
    const err = errorLine();
    root.append(h("h1", { text: "DogStatsD" }), err, box);
    return live(async () => {
      const status = await api("/api/agent/status?format=json");
      let top;
      try {
        const stats = await api("/api/agent/dogstatsd-stats");
        top = table(
          ["Metric", "Tags", "Samples", "Last seen"],
          stats.stats.slice(0, 50).map((
            s,
          ) => [s.Name, s.Tags || "–", fmtNumber(s.Count), s.LastSeen]),
        );
      } catch (e) {
        top = h("p", { text: e.message });
      }
      const errors = status.dogstatsdStats?.last_errors ?? [];
      box.replaceChildren(
        section("Top contexts", top),
        section(
          "Recent parse errors",
          errors.length
            ? table(
              ["Time", "Kind", "Reason", "Message"],
              errors.map((
                e,
              ) => [e.time ?? "", e.kind ?? "", e.code ?? "", e.message ?? JSON.stringify(e)]),
            )
            : h("p", { text: "None." }),
        ),
      );
    }, err);
  }

  // ---- Metrics explorer --------------------------------------------------------------------
  const COLORS = [
    "#3b6fd8",
    "#d8553b",
    "#2e9e5b",
    "#9b51c9",
    "#c99a1a",
    "#1aa5c9",
    "#c91a76",
    "#666",
  ];
  const RANGES = [["15 minutes", 900], ["1 hour", 3600], ["6 hours", 21600], ["1 day", 86400], [
    "everything",
    0,
  ]];

  function metrics(root) {
    const err = errorLine();
    const metric = h("select", { name: "metric", "aria-label": "metric" });
    const range = h(
      "select",
      { name: "range", "aria-label": "time range" },
      RANGES.map(([t, s]) => h("option", { value: s, text: t })),
    );
    const groupBy = h("input", {
      name: "group",
      placeholder: "group by tag key (env)",
      "aria-label": "group by",
    });
    const filter = h("input", {
      name: "filter",
      placeholder: "filter: env:prod,team:a",
      "aria-label": "filter",
    });
    range.value = "3600";
    const chart = h("div", { class: "chart", "data-testid": "chart" });
    const legend = h("div");
    let plot = null;
    const form = h(
      "form",
      { class: "controls", onsubmit: (e) => (e.preventDefault(), refresh()) },
      metric,
      range,
      groupBy,
      filter,
      h("button", { type: "submit", text: "Show" }),
    );
    range.addEventListener("change", () => refresh());
    root.append(h("h1", { text: "Metrics" }), form, err, chart, legend);

    // The metric shown: the one picked, or the page's `?metric=` (`s:` series, `d:` sketches).
    const wanted = new URLSearchParams(location.search).get("metric");
    let chosen = wanted ? (wanted.includes(":") ? wanted : `s:${wanted}`) : "";
    metric.addEventListener("change", () => {
      chosen = metric.value;
      refresh();
    });

    // Names are read again on every refresh: new metrics appear without a reload.
    async function loadNames() {
      const names = await api("/api/intake/metrics");
      const option = (kind) => (n) => h("option", { value: `${kind}:${n}`, text: n });
      metric.replaceChildren(
        h("optgroup", { label: "series" }, names.series.map(option("s"))),
        h("optgroup", { label: "distributions" }, names.sketches.map(option("d"))),
      );
      const known = [...metric.options].some((o) => o.value === chosen);
      if (!chosen || (!known && !wanted)) chosen = metric.options[0]?.value ?? "";
      metric.value = chosen;
      return known || chosen === metric.options[0]?.value;
    }

    const nowS = () => Math.floor(Date.now() / 1000);
    let from = 0;

    function draw(series, xs, bands) {
      plot?.destroy();
      chart.replaceChildren();
      if (xs.length === 0) {
        chart.append(h("p", { text: "No points in this range." }));
        plot = null;
        return;
      }
      const opts = {
        width: Math.max(320, chart.clientWidth || 800),
        height: 320,
        // The window asked for, not uPlot's fit: one point alone would span years.
        scales: {
          x: { time: true, range: (_u, lo, hi) => [from || lo - 60, Math.max(hi, nowS()) + 10] },
        },
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: s.stroke ?? COLORS[i % COLORS.length],
            width: 2,
            spanGaps: true,
          })),
        ],
        bands,
      };
      plot = new uPlot(opts, [xs, ...series.map((s) => s.ys)], chart);
      const first = series[0].ys;
      let last = null;
      for (let i = first.length - 1; i >= 0 && last === null; i--) last = first[i];
      chart.dataset.last = String(last);
      chart.dataset.points = String(xs.length);
    }

    async function refresh() {
      if (!(await loadNames()) || !chosen) {
        const what = chosen ? `${chosen.slice(2)} yet` : "metrics yet";
        chart.replaceChildren(h("p", { text: `The local intake holds no ${what}.` }));
        delete chart.dataset.last;
        return;
      }
      const [kind, name] = [chosen.slice(0, 1), chosen.slice(2)];
      const q = new URLSearchParams({ metric: name });
      for (const t of filter.value.split(",").map((t) => t.trim()).filter(Boolean)) {
        q.append("tag", t);
      }
      from = Number(range.value) ? nowS() - Number(range.value) : 0;
      const key = groupBy.value.trim();
      const groupOf = (tags, host) => {
        if (!key) return tags.join(",") || host || "(no tags)";
        const tag = tags.find((t) => t.startsWith(`${key}:`));
        return tag ? tag.slice(key.length + 1) : `(no ${key})`;
      };
      if (kind === "s") {
        if (from) q.set("from", String(from));
        const r = await api(`/api/intake/series?${q}`);
        const groups = new Map();
        for (const p of r.points) {
          const g = groupOf(p.tags, p.host);
          if (!groups.has(g)) groups.set(g, { gauge: p.type === "gauge", at: new Map() });
          const at = groups.get(g).at;
          const cur = at.get(p.timestamp) ?? { sum: 0, n: 0 };
          at.set(p.timestamp, { sum: cur.sum + p.value, n: cur.n + 1 });
        }
        const xs = [...new Set(r.points.map((p) => p.timestamp))].sort((a, b) => a - b);
        // Grouped gauges are averaged, counts and rates added, as Datadog's space aggregation.
        const series = [...groups].map(([label, g]) => ({
          label,
          ys: xs.map((x) => {
            const v = g.at.get(x);
            return v ? (g.gauge ? v.sum / v.n : v.sum) : null;
          }),
        }));
        draw(series, xs);
        legend.replaceChildren(
          table(
            ["Group", "Last value", "Points"],
            series.map((s) => [
              s.label,
              fmtNumber(s.ys.filter((y) => y !== null).at(-1)),
              s.ys.filter((y) => y !== null).length,
            ]),
            { "data-testid": "legend" },
          ),
        );
        return;
      }
      for (const p of ["0.5", "0.9", "0.99"]) q.append("q", p);
      const r = await api(`/api/intake/sketches?${q}`);
      const byGroup = new Map();
      for (const s of r.sketches) {
        if (s.ts < from) continue;
        const g = groupOf(s.tags, s.host);
        if (!byGroup.has(g)) byGroup.set(g, []);
        byGroup.get(g).push(s);
      }
      // One group's percentiles as bands: min–max, and p50–p99 darker.
      const [label, sketches] = [...byGroup][0] ?? ["", []];
      sketches.sort((a, b) => a.ts - b.ts);
      const xs = sketches.map((s) => s.ts);
      const line = (k, stroke) => ({
        label: k,
        stroke,
        ys: sketches.map((s) => (k === "min" || k === "max" ? s[k] : s.quantiles[k])),
      });
      draw(
        [
          line("0.5", "#3b6fd8"),
          line("0.9", "#2e9e5b"),
          line("0.99", "#d8553b"),
          line("min", "#999"),
          line("max", "#999"),
        ],
        xs,
        [{ series: [5, 4], fill: "rgba(59,111,216,0.08)" }, {
          series: [3, 1],
          fill: "rgba(59,111,216,0.18)",
        }],
      );
      legend.replaceChildren(
        h("p", {
          text: byGroup.size > 1 ? `Showing ${label}: narrow the filter to see another group.` : "",
        }),
        table(
          ["Group", "Sketches", "Count", "Last p50", "Last p99"],
          [...byGroup].map(([g, list]) => [
            g,
            list.length,
            fmtNumber(list.reduce((n, s) => n + s.cnt, 0)),
            fmtNumber(list.at(-1).quantiles["0.5"]),
            fmtNumber(list.at(-1).quantiles["0.99"]),
          ]),
          { "data-testid": "legend" },
        ),
      );
    }
    const stop = live(refresh, err, 5000);
    return () => {
      stop();
      plot?.destroy();
    };
  }

  // ---- Checks ------------------------------------------------------------------------------
  function checks(root) {
    const box = h("div");
    const err = errorLine();
    const output = h("pre", { class: "output", "data-testid": "check-output" });
    const run = async (name) => {
      output.textContent = `Running ${name}…`;
      try {
        const r = await api(`/api/agent/checks/${encodeURIComponent(name)}/run`, {
          method: "POST",
        });
        const lines = [`${name}: exit code ${r.exit_code}`, ...r.errors];
        for (const res of r.results) {
          if (res.runner?.LastError) lines.push(`Error: ${res.runner.LastError}`);
          for (const m of res.aggregator.metrics) {
            lines.push(`${m.metric} ${JSON.stringify(m.points)} ${m.tags.join(",")}`);
          }
          for (const c of res.aggregator.service_checks) {
            lines.push(`service check ${c.check}: ${c.status} ${c.message ?? ""}`);
          }
        }
        output.textContent = lines.join("\n");
      } catch (e) {
        output.textContent = e.message;
      }
    };
    root.append(h("h1", { text: "Checks" }), err, box, section("Output", output));
    return live(
      async () => {
        const s = await api("/api/agent/status?format=json");
        const rows = [];
        for (const [name, instances] of Object.entries(s.runnerStats?.Checks ?? {})) {
          for (const [id, st] of Object.entries(instances)) {
            rows.push([
              name,
              id,
              st.TotalRuns,
              st.TotalErrors,
              st.TotalWarnings,
              st.UpdateTimestamp ? new Date(st.UpdateTimestamp * 1000).toLocaleTimeString() : "–",
              st.LastError ? st.LastError.split("\n")[0] : st.LastWarnings?.[0] ?? "OK",
              h("button", {
                type: "button",
                "data-check": name,
                text: "Run now",
                onclick: () => run(name),
              }),
            ]);
          }
        }
        const errors = {
          ...s.autoConfigStats?.ConfigErrors,
          ...s.checkSchedulerStats?.LoaderErrors,
        };
        box.replaceChildren(
          rows.length
            ? table([
              "Check",
              "Instance",
              "Runs",
              "Errors",
              "Warnings",
              "Last run",
              "Last result",
              "",
            ], rows)
            : h("p", { text: "No check is scheduled." }),
          Object.keys(errors).length
            ? section(
              "Config and loading errors",
              pairs(
                Object.entries(errors).map((
                  [k, v],
                ) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
              ),
            )
            : null,
        );
      },
      err,
      3000,
    );
  }

  // ---- Traces ------------------------------------------------------------------------------
  function traces(root) {
    const err = errorLine();
    const service = h("select", { "aria-label": "service" });
    const list = h("div");
    const view = h("div", { class: "waterfall", "data-testid": "waterfall" });
    let selected = null;
    let spansById = new Map();
    service.addEventListener("change", () => refresh());
    root.append(
      h("h1", { text: "Traces" }),
      h("div", { class: "controls" }, service),
      err,
      list,
      view,
    );

    function showTrace(id) {
      selected = id;
      const spans = spansById.get(id) ?? [];
      const t0 = Math.min(...spans.map((s) => Number(s.start)));
      const end = Math.max(...spans.map((s) => Number(s.start) + Number(s.duration)));
      const total = Math.max(1, end - t0);
      // Depth-first from the root, so that children sit under their parent.
      const kids = new Map();
      for (const s of spans) {
        if (!kids.has(s.parent_id)) kids.set(s.parent_id, []);
        kids.get(s.parent_id).push(s);
      }
      const ids = new Set(spans.map((s) => s.span_id));
      const order = [];
      const visit = (s, depth) => {
        order.push([s, depth]);
        for (
          const c of (kids.get(s.span_id) ?? []).sort((a, b) => Number(a.start) - Number(b.start))
        ) visit(c, depth + 1);
      };
      for (const r of spans.filter((s) => !ids.has(s.parent_id))) visit(r, 0);
      view.replaceChildren(
        h("h2", { text: `Trace ${id} · ${(total / 1e6).toFixed(2)} ms · ${spans.length} spans` }),
        ...order.map(([s, depth]) => {
          const bar = h("div", {
            class: `bar${s.error ? " error" : ""}`,
            title: `${s.resource} (${(Number(s.duration) / 1e6).toFixed(3)} ms)`,
          });
          bar.style.left = `${((Number(s.start) - t0) / total) * 100}%`;
          bar.style.width = `${Math.max(0.3, (Number(s.duration) / total) * 100)}%`;
          const name = h("div", { class: "span-name", text: `${s.service} ${s.name}` });
          name.style.paddingLeft = `${depth}em`;
          return h(
            "div",
            { class: "span", "data-span": s.name },
            name,
            h("div", { class: "track" }, bar),
            h("div", { class: "span-time", text: `${(Number(s.duration) / 1e6).toFixed(2)} ms` }),
          );
        }),
      );
    }

    async function refresh() {
      const chosen = service.value;
      const r = await api(
        `/api/intake/traces${chosen ? `?service=${encodeURIComponent(chosen)}` : ""}`,
      );
      if (!chosen) {
        const services = [...new Set(r.spans.map((s) => s.service))].sort();
        service.replaceChildren(
          h("option", { value: "", text: "every service" }),
          ...services.map((s) => h("option", { value: s, text: s })),
        );
      }
      spansById = new Map();
      for (const s of r.spans) {
        if (!spansById.has(s.trace_id)) spansById.set(s.trace_id, []);
        spansById.get(s.trace_id).push(s);
      }
      const rows = [...spansById].map(([id, spans]) => {
        const ids = new Set(spans.map((s) => s.span_id));
        const root = spans.find((s) => !ids.has(s.parent_id)) ?? spans[0];
        return { id, root, count: spans.length };
      }).sort((a, b) => Number(b.root.start) - Number(a.root.start)).slice(0, 100);
      list.replaceChildren(
        rows.length
          ? table(
            ["Start", "Service", "Resource", "Duration", "Spans", ""],
            rows.map((t) => [
              new Date(Number(t.root.start) / 1e6).toLocaleTimeString(),
              t.root.service,
              t.root.resource,
              `${(Number(t.root.duration) / 1e6).toFixed(2)} ms`,
              t.count,
              h("button", {
                type: "button",
                "data-trace": t.id,
                text: "View",
                onclick: () => showTrace(t.id),
              }),
            ]),
          )
          : h("p", { text: "The local intake holds no traces yet." }),
      );
      if (selected && spansById.has(selected)) showTrace(selected);
    }
    return live(refresh, err, 5000);
  }

  // ---- Logs --------------------------------------------------------------------------------
  function logs(root) {
    const err = errorLine();
    const fields = ["service", "source", "name", "type"].map((k) =>
      h("input", { name: k, placeholder: k, "aria-label": k })
    );
    const out = h("pre", { class: "output tail", "data-testid": "log-tail" });
    let abort = null;
    const stopTail = () => {
      abort?.abort();
      abort = null;
    };
    async function start(e) {
      e.preventDefault();
      stopTail();
      out.textContent = "";
      err.textContent = "";
      abort = new AbortController();
      const body = Object.fromEntries(
        fields.map((f) => [f.name, f.value.trim()]).filter(([, v]) => v),
      );
      try {
        const res = await fetch("/api/agent/stream-logs", {
          method: "POST",
          headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
          body: JSON.stringify(body),
          signal: abort.signal,
        });
        if (!res.ok) {
          const data = await res.json().catch(() => ({}));
          throw new Error(
            res.status === 404
              ? "Log collection is off (logs_enabled: false)"
              : data.error ?? res.statusText,
          );
        }
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          out.append(value);
          // Keep the last 2,000 lines.
          const lines = out.textContent.split("\n");
          if (lines.length > 2000) out.textContent = lines.slice(-2000).join("\n");
          out.scrollTop = out.scrollHeight;
        }
      } catch (e) {
        if (e.name !== "AbortError") err.textContent = e.message;
      }
    }
    root.append(
      h("h1", { text: "Logs" }),
      h(
        "form",
        { class: "controls", onsubmit: start },
        fields,
        h("button", { type: "submit", text: "Tail" }),
        h("button", { type: "button", text: "Stop", onclick: stopTail }),
      ),
      err,
      out,
    );
    return stopTail;
  }

  // ---- Flare -------------------------------------------------------------------------------
  function flare(root) {
    const err = errorLine();
    const list = h("div");
    const note = h("p", { "data-testid": "flare-note" });
    const create = h("button", {
      type: "button",
      text: "Create a flare",
      onclick: async () => {
        create.disabled = true;
        note.textContent = "Creating the flare…";
        try {
          const f = await api("/api/flares", { method: "POST" });
          note.textContent = `Created ${f.name} (${fmtBytes(f.size)})`;
          await refresh();
        } catch (e) {
          note.textContent = e.message;
        } finally {
          create.disabled = false;
        }
      },
    });
    async function refresh() {
      const { flares } = await api("/api/flares");
      list.replaceChildren(
        flares.length
          ? table(
            ["Created", "Archive", "Size", "Send to support"],
            flares.map((f) => {
              const caseId = h("input", {
                placeholder: "case id",
                "aria-label": "case id",
                inputmode: "numeric",
              });
              const email = h("input", {
                placeholder: "email",
                "aria-label": "email",
                type: "email",
              });
              const send = h(
                "form",
                {
                  class: "inline",
                  onsubmit: async (e) => {
                    e.preventDefault();
                    try {
                      const r = await api(`/api/flares/${f.id}/send`, {
                        method: "POST",
                        body: { case_id: caseId.value, email: email.value },
                      });
                      note.textContent = r.message;
                    } catch (x) {
                      note.textContent = x.message;
                    }
                  },
                },
                caseId,
                email,
                h("button", { type: "submit", text: "Send" }),
              );
              return [
                new Date(f.created).toLocaleString(),
                h("a", { href: `/api/flares/${f.id}/file`, download: f.name, text: f.name }),
                fmtBytes(f.size),
                send,
              ];
            }),
          )
          : h("p", { text: "No flare made from the console yet." }),
      );
    }
    root.append(
      h("h1", { text: "Flare" }),
      h("p", {
        text: "A flare is a zip of the agent's status, config (scrubbed), logs and diagnostics.",
      }),
      create,
      note,
      err,
      list,
    );
    refresh().catch((e) => (err.textContent = e.message));
    return () => {};
  }

  // ---- Fleet -------------------------------------------------------------------------------
  function fleet(root) {
    const err = errorLine();
    const box = h("div");
    const note = h("p", { "data-testid": "fleet-note" });
    const act = async (pkg, action, body) => {
      note.textContent = `${action} for ${pkg}…`;
      try {
        await api(`/api/fleet/${encodeURIComponent(pkg)}/experiment/${action}`, {
          method: "POST",
          body: body ?? {},
        });
        note.textContent = `${action}: done`;
        await refresh();
      } catch (e) {
        note.textContent = `${action}: ${e.message}`;
      }
    };
    async function refresh() {
      const s = await api("/api/fleet/status");
      const rows = Object.entries(s.packages ?? {}).map(([pkg, p]) => {
        const version = h("input", {
          placeholder: "version",
          "aria-label": `experiment version of ${pkg}`,
          name: "version",
        });
        return [
          pkg,
          p.stable || "–",
          h("span", { "data-testid": `experiment-${pkg}`, text: p.experiment || "–" }),
          p.task?.state ?? "–",
          h(
            "form",
            {
              class: "inline",
              onsubmit: (
                e,
              ) => (e.preventDefault(), act(pkg, "start", { version: version.value.trim() })),
            },
            version,
            h("button", { type: "submit", text: "Start experiment" }),
            h("button", { type: "button", text: "Stop", onclick: () => act(pkg, "stop") }),
            h("button", { type: "button", text: "Promote", onclick: () => act(pkg, "promote") }),
          ),
        ];
      });
      box.replaceChildren(
        pairs([["Installer version", s.version ?? "–"]]),
        rows.length
          ? table(["Package", "Stable", "Experiment", "Task", ""], rows)
          : h("p", { text: "No package installed." }),
      );
    }
    root.append(h("h1", { text: "Fleet" }), note, err, box);
    // Refreshed on each action rather than on a timer: a refresh would clear a version being typed.
    refresh().catch((e) => (err.textContent = e.message));
    return () => {};
  }

  // ---- Routing -----------------------------------------------------------------------------
  const PAGES = {
    "/": overview,
    "/dogstatsd": dogstatsd,
    "/metrics": metrics,
    "/checks": checks,
    "/traces": traces,
    "/logs": logs,
    "/flare": flare,
    "/fleet": fleet,
  };
  let leave = () => {};
  function go(path) {
    leave();
    for (const a of document.querySelectorAll("nav a")) {
      if (a.getAttribute("href") === path) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    main.replaceChildren();
    leave = (PAGES[path] ?? overview)(main);
  }
  document.querySelector("nav").addEventListener("click", (e) => {
    const a = e.target.closest("a");
    if (!a) return;
    e.preventDefault();
    history.pushState(null, "", a.getAttribute("href"));
    go(location.pathname);
  });
  addEventListener("popstate", () => go(location.pathname));
  go(location.pathname);
})();
