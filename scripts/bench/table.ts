/**
 * The performance table of README.md, made from `bench/results/*.json`: each goal of the
 * performance issue beside what the last run measured and what it was measured against in the
 * same run.
 *
 *   bun scripts/bench/table.ts            # prints the table
 *   bun scripts/bench/table.ts --write    # and replaces it in README.md, between its markers
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const RESULTS = join(ROOT, "bench/results");
const START = "<!-- bench-table:start -->";
const END = "<!-- bench-table:end -->";

// deno-lint-ignore no-explicit-any
type Json = any;
const read = (name: string): Json | null => {
  const path = join(RESULTS, `${name}.json`);
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : null;
};

const M = (n: number) => `${(n / 1e6).toFixed(2)} M`;
const k = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${Math.round(n / 1000)}k`);
const yes = (ok: boolean) => (ok ? "yes" : "**no**");
const day = (iso: string | undefined) => (iso ?? "").slice(0, 10);

const rows: string[][] = [];
const machines = new Set<string>();
const note = (r: Json) => {
  if (r?.machine) machines.add(`${r.machine.cpus} × ${r.machine.cpu}`);
};

const dsd = read("dogstatsd")?.dogstatsd;
if (dsd) {
  const at = (ctx: number, name: string) =>
    dsd.throughput.find((t: Json) => t.contexts === ctx && t.case === name);
  const agg = at(10000, "parse + aggregate");
  const base = at(10000, "baseline string parser");
  rows.push([
    "Parse + aggregate, 10,000 contexts, one core",
    `${M(agg.lines_per_s)} lines/s`,
    `${agg.vs_baseline}× a plain string parser (${M(base.lines_per_s)})`,
    "≥ 2.00 M",
    yes(agg.lines_per_s >= 2e6),
  ]);
  const heap = dsd.heap.map((h: Json) => `${h.bytes_per_context} B at ${k(h.contexts)}`);
  rows.push([
    "Memory per context",
    heap.join(", "),
    "the Go agent's budget: 1,500 B",
    "≤ 600 B",
    yes(dsd.heap.every((h: Json) => h.bytes_per_context <= 600)),
  ]);
}

const peers = read("peers");
if (peers) {
  note(peers);
  const s = (peer: string, kind: string, rcvbuf = 0) =>
    peers.summary.find((x: Json) => x.peer === peer && x.kind === kind && x.rcvbuf === rcvbuf);
  const others = [...new Set(peers.summary.map((x: Json) => x.peer))]
    .filter((p) => p !== "outpost" && p !== "c-recvmmsg") as string[];
  for (
    const [kind, goal, what] of [
      ["line", 200000, "one-line datagrams"],
      ["packed", 400000, "lines in 1,432-byte datagrams"],
    ] as const
  ) {
    const o = s("outpost", kind);
    const best = Math.max(...others.map((p) => s(p, kind)?.loss_free_rate ?? 0));
    rows.push([
      `Loss-free (< 0.1 %) ${what}, default settings`,
      `${k(o.loss_free_rate)}/s`,
      `best peer ${k(best)}/s; C recvmmsg ${k(s("c-recvmmsg", kind).loss_free_rate)}/s`,
      `≥ ${k(goal)}/s`,
      yes(o.loss_free_rate >= goal && o.loss_free_rate >= best),
    ]);
  }
  const o4 = s("outpost", "line", 4194304);
  const c4 = s("c-recvmmsg", "line", 4194304);
  rows.push([
    "Loss-free one-line datagrams, 4 MiB buffer",
    `${k(o4.loss_free_rate)}/s`,
    `C recvmmsg ${k(c4.loss_free_rate)}/s`,
    "within 2× of C",
    yes(o4.loss_free_rate * 2 >= c4.loss_free_rate),
  ]);
  for (const kind of ["line", "packed"]) {
    const o = s("outpost", kind).cpu_s_per_million_lines_at_50k;
    const theirs = others
      .map((p) => [p, s(p, kind)?.cpu_s_per_million_lines_at_50k] as const)
      .filter(([, v]) => typeof v === "number" && v > 0);
    rows.push([
      `CPU s per million lines at 50,000/s (${kind === "line" ? "one-line" : "packed"})`,
      o.toFixed(1),
      theirs.map(([p, v]) => `${p} ${v!.toFixed(1)}`).join(", "),
      "below every peer",
      yes(theirs.every(([, v]) => o < v!)),
    ]);
  }
}

const startup = read("startup");
if (startup) {
  note(startup);
  const hello = startup.hello_world;
  rows.push([
    "Ready (exec → health answered), median of " + startup.runs,
    `${startup.ready_ms.median.toFixed(1)} ms`,
    hello ? `compiled Bun hello-world ${hello.ready_ms.median.toFixed(1)} ms` : "",
    "≤ 30 ms",
    yes(startup.ready_ms.median <= 30),
  ]);
  rows.push([
    `Idle RSS after ${startup.idle_seconds} s (anonymous / file-backed)`,
    `${startup.idle_rss_mib.toFixed(1)} MiB (${startup.idle_anon_mib?.toFixed(1)} / ${
      startup.idle_file_mib?.toFixed(1)
    })`,
    hello ? `hello-world ${hello.idle_rss_mib.toFixed(1)} MiB` : "",
    "≤ 40 MB (all of RSS)",
    yes(startup.idle_rss_mib * 1.048576 <= 40),
  ]);
  if (startup.sizes) {
    const z = startup.sizes;
    rows.push([
      "Binary (xz -6)",
      `${z.outpost_mib.toFixed(1)} MiB (${z.outpost_xz_mib.toFixed(1)} MiB)`,
      `hello-world ${z.hello_mib.toFixed(1)} MiB (${z.hello_xz_mib.toFixed(1)} MiB)`,
      "≤ 30 MiB with xz",
      yes(z.outpost_xz_mib <= 30),
    ]);
  }
}

const soak = read("soak");
if (soak) {
  note(soak);
  const s = soak.summary;
  rows.push([
    `Soak: ${s.minutes} min at ${k(s.rate)} lines/s, ${k(s.contexts)} contexts, 10 % churn/min`,
    `RSS ${(s.rss_growth_after_warmup * 100).toFixed(1)} % from minute 10; ${
      s.exact ? "every line at the intake" : "lines missing"
    }`,
    `${s.sent.toLocaleString("en-US")} sent`,
    "< 5 %, exact",
    yes(s.rss_growth_after_warmup < 0.05 && s.exact),
  ]);
}

const dates = [dsd && `dogstatsd ${day(dsd.date)}`, peers && `peers ${day(peers.date)}`]
  .concat([startup && `startup ${day(startup.date)}`, soak && `soak ${day(soak.date)}`])
  .filter(Boolean);
const table = [
  `Measured on shared machines of ${[...machines].join("; ")}, Linux x64, Bun ${
    dsd?.runtime?.replace("bun ", "") ?? ""
  } (runs: ${dates.join(", ")}). Regenerate with \`npx bun scripts/bench/table.ts --write\`.`,
  "",
  "| measure | outpost | in the same run | goal | met |",
  "|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");

console.log(table);
if (process.argv.includes("--write")) {
  const readme = join(ROOT, "README.md");
  const text = readFileSync(readme, "utf8");
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} markers`);
  writeFileSync(readme, `${text.slice(0, a + START.length)}\n${table}\n${text.slice(b)}`);
  console.log("wrote README.md");
}
