/**
 * Credit card numbers in span tags: a value of 12 to 19 digits (spaces and dashes allowed,
 * nothing else) that starts with a known issuer prefix, optionally Luhn-checked.
 */

/** Tags never scanned: numbers in them are ids, codes or counts, not card numbers. */
export const CREDIT_CARD_ALLOWED_KEYS: ReadonlySet<string> = new Set([
  "_sample_rate",
  "_sampling_priority_v1",
  "account_id",
  "aws_account",
  "error",
  "error.msg",
  "error.type",
  "error.stack",
  "env",
  "graphql.field",
  "graphql.query",
  "graphql.type",
  "graphql.operation.name",
  "grpc.code",
  "grpc.method",
  "grpc.request",
  "http.status_code",
  "http.method",
  "runtime-id",
  "out.host",
  "out.port",
  "sampling.priority",
  "span.type",
  "span.name",
  "service.name",
  "service",
  "sql.query",
  "version",
  "databricks_job_id",
  "databricks_job_run_id",
  "databricks_task_run_id",
  "config.spark_app_startTime",
]);

/** Issuer prefixes (IIN ranges) of the card networks, as [first, last] of a prefix length. */
const RANGES: Array<[number, number, number]> = [
  // [prefix digits, from, to]
  [1, 4, 4], // Visa
  [2, 34, 34],
  [2, 37, 37], // Amex
  [2, 36, 36],
  [2, 38, 39],
  [3, 300, 305], // Diners
  [2, 51, 55],
  [4, 2221, 2720], // Mastercard
  [4, 6011, 6011],
  [3, 644, 649],
  [2, 65, 65], // Discover
  [4, 3528, 3589], // JCB
  [2, 62, 62], // UnionPay
  [4, 5018, 5018],
  [4, 5020, 5020],
  [4, 5038, 5038],
  [4, 5893, 5893],
  [4, 6304, 6304],
  [4, 6759, 6759],
  [4, 6761, 6763], // Maestro
  [4, 5019, 5019], // Dankort
  [3, 636, 636], // InterPayment
  [4, 2200, 2204], // Mir
  [4, 9792, 9792], // Troy
];

function knownIssuer(digits: string): boolean {
  for (const [n, from, to] of RANGES) {
    const p = Number(digits.slice(0, n));
    if (p >= from && p <= to) return true;
  }
  return false;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * True when `value` looks like a card number.
 *
 * @example
 * ```ts
 * import { isCardNumber } from "./_credit_cards.ts";
 * console.assert(isCardNumber("4111 1111 1111 1111"));
 * console.assert(!isCardNumber("4111 1111 1111 1111 x"));
 * ```
 */
export function isCardNumber(value: string, { luhn: checkLuhn = false } = {}): boolean {
  if (value.length < 12 || value.length > 40) return false;
  let digits = "";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += value[i];
    else if (c !== 0x20 && c !== 0x2d) return false;
  }
  if (digits.length < 12 || digits.length > 19) return false;
  if (!knownIssuer(digits)) return false;
  return !checkLuhn || luhn(digits);
}
