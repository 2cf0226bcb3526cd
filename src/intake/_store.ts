/**
 * The intake's storage: one SQLite database (`intake.sqlite` under the store's directory, in
 * WAL mode) holding every accepted payload decoded, as the JSON record it was answered with;
 * the points of every series payload in a table indexed by metric, tag set and time; the names
 * (metrics, checks, services) each payload can be looked up by; and blobs (flare archives).
 * The store is kept under a byte cap by removing the oldest payloads and blobs first; every
 * removal is counted. A store of JSON-lines segment files left by an older outpost is imported
 * once when the store opens, and its files are removed.
 *
 * Every append is one transaction: a process killed at any point (SIGKILL included) leaves the
 * database with whole payloads only, readable when it opens again.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { configDefaults } from "../config/mod.ts";
import type { Runtime, SqlDatabase, SqlStatement, SqlValue } from "../runtime/types.ts";
import { namesOf, type SeriesContext, seriesOf } from "./_index.ts";

/** Version of the stored record format (the `v` of each record). */
export const RECORD_FORMAT_VERSION = 1;

/** Version of the database schema (SQLite's `user_version`). */
export const SCHEMA_VERSION = 1;

/** The database's file name inside the store's directory. */
export const DB_FILE = "intake.sqlite";

/** One stored payload. */
export interface StoredRecord {
  /** Format version of the record. */
  v: number;
  /** Arrival number, increasing across restarts. */
  seq: number;
  route: string;
  /** A finer classification where a route carries several kinds (`/intake/`). */
  kind: string;
  method: string;
  /** Arrival time, RFC 3339. */
  received_at: string;
  /** Arrival time, ms since the epoch. */
  received_ms: number;
  /** Headers of interest, lower-cased names. */
  headers: Record<string, string>;
  /** The API key with everything but its last 4 characters masked, or "" when absent. */
  api_key_masked: string;
  /** Bytes as received and after decompression. */
  wire_bytes: number;
  decoded_bytes: number;
  content: unknown;
}

/** What a caller gives to {@linkcode IntakeStore.append}. */
export type NewRecord = Omit<StoredRecord, "v" | "seq">;

/** Options of {@linkcode IntakeStore}. */
export interface StoreOptions {
  /** Directory of the database; created when missing. */
  dir: string;
  /** Opens the database. */
  runtime: Pick<Runtime, "openSqlite">;
  /**
   * Cap on the bytes of the stored payloads and blobs, counted as their JSON size plus an
   * estimate of their index rows. @default `local_intake.max_bytes` (64 MiB)
   */
  maxBytes?: number;
}

/** Counters of the store. */
export interface StoreStats {
  /** Stored blobs (flare archives). */
  files: number;
  /** What the stored payloads and blobs count against the cap. */
  bytes: number;
  max_bytes: number;
  records: number;
  /** Blobs removed by the cap. */
  evicted_files: number;
  evicted_records: number;
  evicted_bytes: number;
  /** Size of the database files on disk (main file and write-ahead log). */
  db_bytes: number;
  schema_version: number;
}

/** Which records {@linkcode IntakeStore.records} reads; absent fields match anything. */
export interface RecordFilter {
  route?: string;
  kind?: string;
  /** A name the payload carries (see `namesOf`): a metric, check or service name. */
  name?: string;
  /** Only the last this many matching records (still oldest first). */
  last?: number;
}

/** A series context stored in the points index. */
export interface StoredContext {
  id: number;
  route: string;
  host: string;
  tags: string[];
  /** The context as a point reports it: metric, type, interval, host, tags, device, source. */
  context: Omit<SeriesContext, "points">;
}

/** One row of the points index. */
export interface StoredPoint {
  ctx: number;
  series: number;
  seq: number;
  timestamp: number;
  value: number;
}

/**
 * What one index row weighs against the cap, beyond the record's JSON: measured on SQLite's
 * pages (row plus index entry), so that the cap roughly bounds the database file.
 */
const POINT_ROW_BYTES = 40;
const SERIES_ROW_BYTES = 24;
const ROW_OVERHEAD_BYTES = 48;

const SCHEMA = `
CREATE TABLE records (
  seq INTEGER PRIMARY KEY,
  route TEXT NOT NULL,
  kind TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  line TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  series_end INTEGER NOT NULL,
  points_end INTEGER NOT NULL
);
CREATE INDEX records_route ON records (route, seq);
CREATE INDEX records_kind ON records (kind, seq);
CREATE TABLE names (
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (seq, name)
) WITHOUT ROWID;
CREATE INDEX names_name ON names (name, seq);
CREATE TABLE contexts (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  route TEXT NOT NULL,
  metric TEXT NOT NULL,
  context TEXT NOT NULL
);
CREATE INDEX contexts_metric ON contexts (metric);
CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  ctx INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX series_ctx ON series (ctx);
CREATE TABLE points (
  id INTEGER PRIMARY KEY,
  series INTEGER NOT NULL,
  ctx INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value REAL
);
CREATE INDEX points_ctx_ts ON points (ctx, ts);
CREATE TABLE blobs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  after_seq INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL
);
`;

const SEGMENT = /^payloads-(\d{10})\.jsonl$/;
const BLOB = /^blob-(\d{10})-/;

const num = (v: SqlValue | undefined) => Number(v ?? 0);

/**
 * The on-disk payload store.
 *
 * @example Append and read back
 * ```ts
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { runtime } from "../runtime/mod.ts";
 * import { IntakeStore } from "./_store.ts";
 * const dir = mkdtempSync(join(tmpdir(), "intake-"));
 * const store = new IntakeStore({ dir, runtime });
 * store.append({ route: "/api/v1/check_run", kind: "check_run", method: "POST",
 *   received_at: new Date().toISOString(), received_ms: Date.now(), headers: {},
 *   api_key_masked: "", wire_bytes: 2, decoded_bytes: 2, content: [] });
 * console.log([...store.records()].length); // 1
 * store.close();
 * rmSync(dir, { recursive: true });
 * ```
 */
export class IntakeStore {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #db: SqlDatabase;
  readonly #statements = new Map<string, SqlStatement>();
  /** Context key → id, so that ingest looks a tag set up without a query. */
  readonly #contexts = new Map<string, number>();
  #nextSeq = 1;
  #lastSeries = 0;
  #lastPoint = 0;
  #lastContext = 0;
  #records = 0;
  #blobs = 0;
  #bytes = 0;
  #evictedFiles = 0;
  #evictedRecords = 0;
  #evictedBytes = 0;
  /** Records evicted since the last sweep of unused contexts. */
  #sinceSweep = 0;

  constructor(
    { dir, runtime, maxBytes = configDefaults().local_intake.max_bytes }: StoreOptions,
  ) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    // 0700, parents included: the store holds what the agent sent (flares among it), and in
    // --dev it is created inside run_path before the agent checks that directory's mode.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, DB_FILE);
    let db: SqlDatabase | undefined;
    try {
      this.#db = db = runtime.openSqlite(path);
      // WAL: a commit is one append to the log, and a killed writer leaves whole transactions.
      // NORMAL syncs at checkpoints only: a lost machine may lose the last payloads, a killed
      // process loses none (the kernel holds what was written).
      this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
      // The log is folded into the database (with an fsync) every 1/16 of the cap, within
      // 1 .. 4 MiB, and cut back to that size: small beside the cap, rare enough to be cheap.
      const walPages = Math.min(1024, Math.max(256, Math.floor(maxBytes / 16 / 4096)));
      this.#db.exec(
        `PRAGMA wal_autocheckpoint = ${walPages}; PRAGMA journal_size_limit = ${walPages * 4096};`,
      );
      // Ingest writes at the tail of every context in the points index: a page cache that
      // holds those pages halves its cost. Up to 32 MiB, taken only as pages are read.
      const cacheKiB = Math.min(32 * 1024, Math.max(2048, Math.floor(maxBytes / 2048)));
      this.#db.exec(`PRAGMA cache_size = -${cacheKiB}`);
      this.#migrate();
    } catch (e) {
      db?.close();
      throw new Error(`Cannot open the intake store ${path}: ${(e as Error).message}`);
    }
    this.#load();
    this.#importJsonLines();
  }

  /** Stores one record and returns it with its sequence number. */
  append(record: NewRecord): StoredRecord {
    const stored: StoredRecord = { v: RECORD_FORMAT_VERSION, seq: this.#nextSeq, ...record };
    const line = JSON.stringify(stored);
    this.#transaction(() => {
      this.#insert(stored, line);
      this.#enforceCap({ seq: stored.seq });
    });
    this.#nextSeq++;
    return stored;
  }

  /** Writes a blob (a flare archive) and returns its name inside the store. */
  writeBlob(label: string, data: Uint8Array): string {
    const safe = label.replace(/[^\w.-]+/g, "_").slice(0, 120);
    const id = num(this.#sql("SELECT max(id) AS id FROM blobs").get()?.id) + 1;
    const name = `blob-${String(id).padStart(10, "0")}-${safe}`;
    this.#transaction(() => {
      this.#sql("INSERT INTO blobs (id, name, after_seq, bytes, data) VALUES (?, ?, ?, ?, ?)")
        .run(id, name, this.#nextSeq - 1, data.length, data);
      this.#blobs++;
      this.#bytes += data.length;
      this.#enforceCap({ blob: id });
    });
    return name;
  }

  /** Whether a blob is still stored (the cap may have removed it). */
  hasBlob(name: string): boolean {
    return this.#sql("SELECT 1 AS x FROM blobs WHERE name = ?").get(name) !== undefined;
  }

  /** The bytes of a blob, or null when the cap removed it. */
  readBlob(name: string): Uint8Array | null {
    const row = this.#sql("SELECT data FROM blobs WHERE name = ?").get(name);
    return row ? new Uint8Array(row.data as Uint8Array) : null;
  }

  /** The stored records matching `filter`, oldest first. */
  *records(filter: RecordFilter = {}): Generator<StoredRecord> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    let from = "records r";
    if (filter.name !== undefined) {
      from = "names n JOIN records r ON r.seq = n.seq";
      where.push("n.name = ?");
      params.push(filter.name);
    }
    for (const key of ["route", "kind"] as const) {
      if (filter[key] === undefined) continue;
      where.push(`r.${key} = ?`);
      params.push(filter[key]);
    }
    const cond = where.length ? ` WHERE ${where.join(" AND ")}` : "";
    let sql = `SELECT r.line FROM ${from}${cond} ORDER BY r.seq`;
    if (filter.last !== undefined) {
      sql = `SELECT line FROM (SELECT r.seq, r.line FROM ${from}${cond} ORDER BY r.seq DESC ` +
        `LIMIT ${Math.max(0, Math.trunc(filter.last))}) ORDER BY seq`;
    }
    for (const row of this.#sql(sql).iterate(...params)) {
      yield JSON.parse(row.line as string) as StoredRecord;
    }
  }

  /** The distinct names stored payloads of `route` can be looked up by, sorted. */
  names(route: string): string[] {
    return this.#sql(
      "SELECT DISTINCT n.name AS name FROM names n JOIN records r ON r.seq = n.seq " +
        "WHERE r.route = ? ORDER BY n.name",
    ).all(route).map((r) => r.name as string);
  }

  /** Series contexts of the points index, of one metric or all. */
  seriesContexts(metric?: string): StoredContext[] {
    const rows = metric === undefined
      ? this.#sql("SELECT id, route, context FROM contexts ORDER BY id").all()
      : this.#sql("SELECT id, route, context FROM contexts WHERE metric = ? ORDER BY id")
        .all(metric);
    return rows.map((r) => {
      const context = JSON.parse(r.context as string) as StoredContext["context"];
      return {
        id: num(r.id),
        route: r.route as string,
        host: context.host,
        tags: context.tags,
        context,
      };
    });
  }

  /** How many series entries of stored payloads have one of these contexts (all when absent). */
  seriesCount(contexts?: number[]): number {
    const row = contexts === undefined
      ? this.#sql("SELECT count(*) AS n FROM series").get()
      : this.#sql("SELECT count(*) AS n FROM series WHERE ctx IN (SELECT value FROM json_each(?))")
        .get(JSON.stringify(contexts));
    return num(row?.n);
  }

  /**
   * Points of these contexts (all when absent), with `from <= timestamp <= to` when given, in
   * order of arrival.
   */
  *points(
    contexts: number[] | undefined,
    range: { from?: number; to?: number } = {},
  ): Generator<StoredPoint> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (contexts !== undefined) {
      where.push("ctx IN (SELECT value FROM json_each(?))");
      params.push(JSON.stringify(contexts));
    }
    if (range.from !== undefined) {
      where.push("ts >= ?");
      params.push(range.from);
    }
    if (range.to !== undefined) {
      where.push("ts <= ?");
      params.push(range.to);
    }
    const cond = where.length ? ` WHERE ${where.join(" AND ")}` : "";
    const sql = `SELECT ctx, series, seq, ts, value FROM points${cond} ORDER BY id`;
    for (const r of this.#sql(sql).iterate(...params)) {
      yield {
        ctx: r.ctx as number,
        series: r.series as number,
        seq: r.seq as number,
        timestamp: r.ts as number,
        // SQLite keeps NaN as NULL.
        value: r.value === null ? NaN : r.value as number,
      };
    }
  }

  /** The store's counters. */
  stats(): StoreStats {
    let dbBytes = 0;
    for (const suffix of ["", "-wal"]) {
      try {
        dbBytes += statSync(join(this.dir, DB_FILE + suffix)).size;
      } catch { /* no log yet */ }
    }
    return {
      files: this.#blobs,
      bytes: this.#bytes,
      max_bytes: this.maxBytes,
      records: this.#records,
      evicted_files: this.#evictedFiles,
      evicted_records: this.#evictedRecords,
      evicted_bytes: this.#evictedBytes,
      db_bytes: dbBytes,
      schema_version: SCHEMA_VERSION,
    };
  }

  /** Closes the database (a checkpoint folds the log into the main file). */
  close(): void {
    this.#statements.clear();
    this.#db.close();
  }

  #sql(sql: string): SqlStatement {
    let s = this.#statements.get(sql);
    if (!s) this.#statements.set(sql, s = this.#db.prepare(sql));
    return s;
  }

  #transaction(fn: () => void): void {
    const counters = [this.#records, this.#blobs, this.#bytes, this.#lastSeries, this.#lastPoint];
    const evicted = [this.#evictedFiles, this.#evictedRecords, this.#evictedBytes];
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      fn();
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      [this.#records, this.#blobs, this.#bytes, this.#lastSeries, this.#lastPoint] = counters;
      [this.#evictedFiles, this.#evictedRecords, this.#evictedBytes] = evicted;
      this.#loadContexts(); // the transaction may have added or swept some
      throw e;
    }
  }

  #migrate(): void {
    const version = num(this.#db.prepare("PRAGMA user_version").get()?.user_version);
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `schema version ${version} is newer than this outpost's (${SCHEMA_VERSION}); ` +
          "use a newer outpost or another data directory",
      );
    }
    if (version === SCHEMA_VERSION) return;
    this.#db.exec(`BEGIN; ${SCHEMA} PRAGMA user_version = ${SCHEMA_VERSION}; COMMIT;`);
  }

  /** Picks up where the database left off: numbering, sizes, contexts. */
  #load(): void {
    const r = this.#sql(
      "SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b, coalesce(max(seq), 0) AS s, " +
        "coalesce(max(series_end), 0) AS se, coalesce(max(points_end), 0) AS pe FROM records",
    ).get()!;
    this.#records = num(r.n);
    this.#bytes = num(r.b);
    this.#nextSeq = num(r.s) + 1;
    this.#lastSeries = num(r.se);
    this.#lastPoint = num(r.pe);
    const b = this.#sql("SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM blobs").get()!;
    this.#blobs = num(b.n);
    this.#bytes += num(b.b);
    this.#loadContexts();
  }

  #loadContexts(): void {
    this.#contexts.clear();
    this.#lastContext = 0;
    for (const c of this.#sql("SELECT id, key FROM contexts").iterate()) {
      this.#contexts.set(c.key as string, num(c.id));
      this.#lastContext = Math.max(this.#lastContext, num(c.id));
    }
  }

  #contextId(route: string, s: SeriesContext): number {
    const { points: _points, ...context } = s;
    const json = JSON.stringify(context);
    const key = `${route}\n${json}`;
    let id = this.#contexts.get(key);
    if (id === undefined) {
      id = ++this.#lastContext;
      this.#sql("INSERT INTO contexts (id, key, route, metric, context) VALUES (?, ?, ?, ?, ?)")
        .run(id, key, route, s.metric, json);
      this.#contexts.set(key, id);
    }
    return id;
  }

  /** Inserts a record with its index rows; the caller holds a transaction. */
  #insert(stored: StoredRecord, line: string): void {
    let weight = Buffer.byteLength(line) + ROW_OVERHEAD_BYTES;
    const insertSeries = this.#sql("INSERT INTO series (id, ctx, seq) VALUES (?, ?, ?)");
    const insertPoint = this.#sql(
      "INSERT INTO points (id, series, ctx, seq, ts, value) VALUES (?, ?, ?, ?, ?, ?)",
    );
    for (const s of seriesOf(stored)) {
      const ctx = this.#contextId(stored.route, s);
      const series = ++this.#lastSeries;
      insertSeries.run(series, ctx, stored.seq);
      for (const [ts, value] of s.points) {
        insertPoint.run(++this.#lastPoint, series, ctx, stored.seq, ts, value);
      }
      weight += SERIES_ROW_BYTES + POINT_ROW_BYTES * s.points.length;
    }
    const insertName = this.#sql("INSERT INTO names (seq, name) VALUES (?, ?)");
    for (const name of namesOf(stored)) {
      insertName.run(stored.seq, name);
      weight += Buffer.byteLength(name) + SERIES_ROW_BYTES;
    }
    this.#sql(
      "INSERT INTO records (seq, route, kind, received_ms, line, bytes, series_end, points_end) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      stored.seq,
      stored.route,
      stored.kind,
      stored.received_ms,
      line,
      weight,
      this.#lastSeries,
      this.#lastPoint,
    );
    this.#records++;
    this.#bytes += weight;
  }

  /**
   * Removes the oldest records and blobs until the cap holds, never the item just written
   * (`keep`); the caller holds a transaction.
   */
  #enforceCap(keep: { seq?: number; blob?: number }): void {
    while (this.#bytes > this.maxBytes) {
      const blob = this.#sql("SELECT id, after_seq, bytes FROM blobs ORDER BY id LIMIT 1").get();
      const oldest = this.#sql("SELECT seq FROM records ORDER BY seq LIMIT 1").get();
      const blobFirst = blob !== undefined &&
        (oldest === undefined || num(blob.after_seq) < num(oldest.seq));
      if (blobFirst) {
        if (num(blob.id) === keep.blob) return;
        this.#sql("DELETE FROM blobs WHERE id = ?").run(blob.id);
        this.#blobs--;
        this.#bytes -= num(blob.bytes);
        this.#evictedFiles++;
        this.#evictedBytes += num(blob.bytes);
        continue;
      }
      if (oldest === undefined) return;
      // Records older than the next blob and than the one kept, enough to meet the cap.
      const limit = Math.min(
        keep.seq ?? Infinity,
        blob === undefined ? Infinity : num(blob.after_seq) + 1,
      );
      let excess = this.#bytes - this.maxBytes;
      let last: Record<string, SqlValue> | undefined;
      let n = 0;
      let freed = 0;
      for (
        const r of this.#sql(
          "SELECT seq, bytes, series_end, points_end FROM records ORDER BY seq LIMIT 1000",
        ).all()
      ) {
        if (num(r.seq) >= limit || excess <= 0) break;
        last = r;
        n++;
        freed += num(r.bytes);
        excess -= num(r.bytes);
      }
      if (last === undefined) return;
      this.#sql("DELETE FROM records WHERE seq <= ?").run(last.seq);
      this.#sql("DELETE FROM names WHERE seq <= ?").run(last.seq);
      this.#sql("DELETE FROM series WHERE id <= ?").run(last.series_end);
      this.#sql("DELETE FROM points WHERE id <= ?").run(last.points_end);
      this.#records -= n;
      this.#bytes -= freed;
      this.#evictedRecords += n;
      this.#evictedBytes += freed;
      this.#sinceSweep += n;
      if (this.#sinceSweep > Math.max(1000, this.#records)) this.#sweepContexts();
    }
  }

  /**
   * Drops the contexts no stored series has any more (a tag set that stopped reporting), once
   * the cap has replaced about the whole store since the last sweep: a cost spread thin.
   */
  #sweepContexts(): void {
    this.#sinceSweep = 0;
    const gone = this.#sql(
      "DELETE FROM contexts WHERE NOT EXISTS (SELECT 1 FROM series WHERE ctx = contexts.id) " +
        "RETURNING key",
    ).all();
    for (const r of gone) this.#contexts.delete(r.key as string);
  }

  /**
   * Imports the JSON-lines segments and blob files an older outpost left in the directory, in
   * one transaction, then removes them. Records keep their sequence numbers and blobs their
   * names, so a crash between the commit and the removal imports nothing twice.
   */
  #importJsonLines(): void {
    const files = readdirSync(this.dir)
      .map((name) => ({ name, m: SEGMENT.exec(name) ?? BLOB.exec(name) }))
      .filter((f) => f.m !== null)
      .sort((a, b) => Number(a.m![1]) - Number(b.m![1]));
    if (files.length === 0) return;
    const haveSeq = this.#sql("SELECT 1 AS x FROM records WHERE seq = ?");
    const haveBlob = this.#sql("SELECT 1 AS x FROM blobs WHERE name = ?");
    this.#transaction(() => {
      let lastSeq = 0;
      for (const { name } of files) {
        const path = join(this.dir, name);
        if (!SEGMENT.test(name)) {
          if (haveBlob.get(name) !== undefined) continue;
          const data = readFileSync(path);
          this.#sql("INSERT INTO blobs (id, name, after_seq, bytes, data) VALUES (?, ?, ?, ?, ?)")
            .run(Number(BLOB.exec(name)![1]), name, lastSeq, data.length, data);
          this.#blobs++;
          this.#bytes += data.length;
          continue;
        }
        for (const text of readFileSync(path, "utf8").split("\n")) {
          let rec: StoredRecord;
          try {
            rec = JSON.parse(text) as StoredRecord;
          } catch {
            continue; // a line cut short by a crash is not a record
          }
          if (typeof rec?.seq !== "number" || haveSeq.get(rec.seq) !== undefined) continue;
          this.#insert(rec, text);
          lastSeq = Math.max(lastSeq, rec.seq);
          this.#nextSeq = Math.max(this.#nextSeq, rec.seq + 1);
        }
      }
      this.#enforceCap({ seq: this.#nextSeq - 1 });
    });
    for (const { name } of files) {
      const path = join(this.dir, name);
      if (existsSync(path)) rmSync(path, { force: true });
    }
  }
}
