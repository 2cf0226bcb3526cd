/** Number, duration and date text as the Datadog Agent's status templates print them. */

/**
 * Thousands separators, as `humanize.Commaf`: `5833916` → `5,833,916`, `1.5` → `1.5`.
 *
 * @example
 * ```ts
 * import { commaf } from "./_format.ts";
 * commaf(1234567); // "1,234,567"
 * ```
 */
export function commaf(n: number): string {
  const neg = n < 0;
  const [int, frac] = String(Math.abs(n)).split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${neg ? "-" : ""}${grouped}${frac ? `.${frac}` : ""}`;
}

/**
 * A millisecond count as Go's `time.Duration` prints it: `0s`, `38ms`, `1.798s`, `28m20.95s`,
 * `1h0m0s`.
 *
 * @example
 * ```ts
 * import { goDuration } from "./_format.ts";
 * goDuration(1700950); // "28m20.95s"
 * ```
 */
export function goDuration(ms: number): string {
  ms = Math.round(ms);
  if (ms === 0) return "0s";
  const neg = ms < 0 ? "-" : "";
  ms = Math.abs(ms);
  if (ms < 1000) return `${neg}${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sMs = ms % 60_000;
  const whole = Math.floor(sMs / 1000);
  const frac = String(sMs % 1000).padStart(3, "0").replace(/0+$/, "");
  const s = `${whole}${frac ? `.${frac}` : ""}s`;
  if (h > 0) return `${neg}${h}h${m}m${s}`;
  if (m > 0) return `${neg}${m}m${s}`;
  return `${neg}${s}`;
}

/** `YYYY-MM-DD HH:MM:SS` of a Date in UTC or in the local zone. */
function ymdhms(d: Date, utc: boolean): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const [y, mo, day, h, mi, s] = utc
    ? [
      d.getUTCFullYear(),
      d.getUTCMonth() + 1,
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    ]
    : [
      d.getFullYear(),
      d.getMonth() + 1,
      d.getDate(),
      d.getHours(),
      d.getMinutes(),
      d.getSeconds(),
    ];
  return `${y}-${p(mo)}-${p(day)} ${p(h)}:${p(mi)}:${p(s)}`;
}

/** The local zone's short name at `d` (`CET`), or its offset (`GMT+1`) where none exists. */
function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(d)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? "";
}

/**
 * A Unix time (seconds) as the agent's `formatUnixTime`: `2022-06-02 11:50:59 UTC (1654170659000)`;
 * outside UTC, the local time first: `2024-12-26 21:31:08 CET / 2024-12-26 20:31:08 UTC (…)`.
 *
 * @example
 * ```ts
 * import { formatUnixTime } from "./_format.ts";
 * formatUnixTime(1654170659, { utc: true }); // "2022-06-02 11:50:59 UTC (1654170659000)"
 * ```
 */
export function formatUnixTime(unixS: number, { utc }: { utc?: boolean } = {}): string {
  const d = new Date(unixS * 1000);
  const inUtc = `${ymdhms(d, true)} UTC (${unixS * 1000})`;
  if (utc ?? d.getTimezoneOffset() === 0) return inUtc;
  return `${ymdhms(d, false)} ${zoneName(d)} / ${inUtc}`;
}
