// The store the services use: one drizzle database (SQLite or PostgreSQL), its tables, and
// transactions that behave the same on both dialects.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type InferInsertModel, type InferSelectModel, sql, type Table } from "drizzle-orm";
import { type BunSQLiteDatabase, drizzle as drizzleSqlite } from "drizzle-orm/bun-sqlite";
import { migrate as migrateSqlite } from "drizzle-orm/bun-sqlite/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/postgres-js";
import { migrate as migratePg } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import type { StoreKind } from "../config";
import { dataLayout } from "../lib/layout";
import { Mutex } from "../lib/mutex";
import * as pgSchema from "./schema.pg";
import * as sqliteSchema from "./schema.sqlite";

export type Tables = typeof sqliteSchema;

/** What the services see of each table: its row and insert types. */
type RowTypes<S> = {
  [K in keyof S]: S[K] extends Table ? { select: InferSelectModel<S[K]>; insert: InferInsertModel<S[K]> } : never;
};
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Names of the tables whose types differ between `S` and the SQLite schema (or that only one has). */
type Differing<S> = {
  [K in keyof S | keyof Tables]: K extends keyof S & keyof Tables
    ? Same<RowTypes<S>[K], RowTypes<Tables>[K]> extends true
      ? never
      : K
    : K;
}[keyof S | keyof Tables];

/**
 * The PostgreSQL tables typed as the SQLite ones. Drizzle types each table by its dialect, so
 * this is a cast, but a checked one: it compiles only while both schemas export the same tables
 * with the same row and insert types (column names, types, nullability, enums, JSON types, which
 * columns have defaults). test/unit/schemaTwins.test.ts compares the rest (SQL names, default
 * values, indexes, keys). The database handle itself stays a plain cast (`Db` below).
 */
function twinOfSqlite<S>(schema: S & ([Differing<S>] extends [never] ? unknown : { differsIn: Differing<S> })): Tables {
  return schema as unknown as Tables;
}
/**
 * Services write queries once, typed against the SQLite schema. On PostgreSQL the same
 * builder calls run on the pg tables: the query-builder surface we use (select/insert/update/
 * delete, returning, onConflict*) is the same in both dialects. Avoid SQLite-only `.get()`,
 * `.run()`, `.all()` and dialect-specific SQL outside this folder.
 */
export type Db = BunSQLiteDatabase<Tables>;

export interface TxOptions {
  /**
   * Serialises transactions that read-then-write a shared invariant (e.g. GPU reservations)
   * across connections. SQLite needs nothing more (one writer at a time); PostgreSQL takes a
   * transaction-scoped advisory lock of this name.
   */
  lock?: string;
}

export interface Store {
  readonly kind: StoreKind;
  readonly db: Db;
  readonly t: Tables;
  /**
   * Runs `fn` in one transaction; a throw rolls everything back. Every write goes through here:
   * on SQLite the single connection is shared by all requests, so writes are serialised by a
   * lock (a bun:sqlite transaction cannot span awaits safely, see PITFALLS "Store"). Not
   * reentrant: do not call `tx` inside `fn`.
   */
  tx<T>(fn: (db: Db) => Promise<T>, options?: TxOptions): Promise<T>;
  /** Counts committed transactions; read caches compare it to know they are still current. */
  readonly generation: () => number;
  close(): Promise<void>;
}

const migrationsDir = (kind: "sqlite" | "pg") => join(import.meta.dir, "migrations", kind);

export async function openStore(options: { databaseUrl?: string; dataDir: string }): Promise<Store> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openSqlite(dataLayout(options.dataDir).sqliteFile);
}

export function openSqlite(path: string): Store {
  mkdirSync(join(path, ".."), { recursive: true });
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA journal_mode = WAL");
  sqlite.run("PRAGMA busy_timeout = 5000");
  sqlite.run("PRAGMA foreign_keys = ON");
  sqlite.run("PRAGMA synchronous = NORMAL");
  const db = drizzleSqlite(sqlite, { schema: sqliteSchema });
  migrateSqlite(db, { migrationsFolder: migrationsDir("sqlite") });
  const lock = new Mutex();
  let generation = 0;
  return {
    kind: "sqlite",
    db,
    t: sqliteSchema,
    generation: () => generation,
    tx: (fn) =>
      lock.run(async () => {
        // Bumped at both ends: a read overlapping the transaction (it may see uncommitted rows
        // on this shared connection) is never cached as current.
        generation++;
        sqlite.run("BEGIN IMMEDIATE");
        try {
          const result = await fn(db);
          sqlite.run("COMMIT");
          return result;
        } catch (err) {
          sqlite.run("ROLLBACK");
          throw err;
        } finally {
          generation++;
        }
      }),
    close: async () => {
      await lock.run(async () => sqlite.close());
    },
  };
}

export async function openPostgres(url: string): Promise<Store> {
  const client = postgres(url, { max: 10, onnotice: () => {} });
  const pg = drizzlePg(client, { schema: pgSchema });
  await migratePg(pg, { migrationsFolder: migrationsDir("pg") });
  let generation = 0;
  return {
    kind: "postgres",
    db: pg as unknown as Db,
    t: twinOfSqlite(pgSchema),
    generation: () => generation,
    tx: async (fn, options) => {
      // Bumped before and after: a read that overlaps the transaction never caches as current.
      generation++;
      try {
        return await pg.transaction(async (tx) => {
          if (options?.lock) await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${options.lock}))`);
          return fn(tx as unknown as Db);
        });
      } finally {
        generation++;
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}
