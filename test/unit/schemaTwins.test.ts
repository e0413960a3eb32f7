// The SQLite and PostgreSQL schemas describe the same tables: same exports, SQL names, column
// kinds, nullability, defaults, enums, indexes and keys. (store.ts checks at compile time that
// their row types match; this checks what types do not carry.)
import { describe, expect, test } from "bun:test";
import { is, Table } from "drizzle-orm";
import { type PgTable, getTableConfig as pgTableConfig } from "drizzle-orm/pg-core";
import { type SQLiteTable, getTableConfig as sqliteTableConfig } from "drizzle-orm/sqlite-core";
import * as pgSchema from "../../src/store/schema.pg";
import * as sqliteSchema from "../../src/store/schema.sqlite";

/** Each dialect's column type → the kind both dialects share. */
const KINDS: Record<string, string> = {
  SQLiteText: "text",
  PgText: "text",
  SQLiteTextJson: "json",
  PgJsonb: "json",
  SQLiteBoolean: "boolean",
  PgBoolean: "boolean",
  SQLiteInteger: "integer",
  PgInteger: "integer",
  PgBigInt53: "integer",
  PgSerial: "serial",
  SQLiteReal: "real",
  PgDoublePrecision: "real",
};

interface ColumnLike {
  name: string;
  columnType: string;
  notNull: boolean;
  hasDefault: boolean;
  default: unknown;
  primary: boolean;
  isUnique: boolean;
  enumValues: string[] | undefined;
}
interface ConfigLike {
  name: string;
  columns: ColumnLike[];
  indexes: { config: { name: string; unique: boolean; columns: unknown[] } }[];
  foreignKeys: {
    onDelete?: string;
    onUpdate?: string;
    reference(): { columns: { name: string }[]; foreignColumns: { name: string }[]; foreignTable: Table };
  }[];
  primaryKeys: { columns: { name: string }[] }[];
  uniqueConstraints: { columns: { name: string }[] }[];
}

function kind(c: ColumnLike): string {
  const k = KINDS[c.columnType];
  if (!k) throw new Error(`column ${c.name}: no shared kind for ${c.columnType} (add it to KINDS)`);
  // SQLite's autoincrementing integer key is PostgreSQL's serial.
  return k === "integer" && (c as { autoIncrement?: boolean }).autoIncrement ? "serial" : k;
}

/** A dialect-free description of a table, comparable with toEqual. */
function describeTable(config: ConfigLike, keys: Map<string, string>) {
  const names = (cols: { name: string }[]) => cols.map((c) => c.name);
  return {
    name: config.name,
    columns: config.columns.map((c) => ({
      key: keys.get(c.name),
      name: c.name,
      kind: kind(c),
      notNull: c.notNull,
      hasDefault: c.hasDefault,
      default: c.default,
      primary: c.primary,
      unique: c.isUnique,
      enumValues: c.enumValues ?? null,
    })),
    indexes: config.indexes
      .map((i) => ({
        name: i.config.name,
        unique: i.config.unique,
        columns: names(i.config.columns as { name: string }[]),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    foreignKeys: config.foreignKeys
      .map((f) => {
        const r = f.reference();
        return {
          columns: names(r.columns),
          table: sqlName(r.foreignTable),
          foreignColumns: names(r.foreignColumns),
          onDelete: f.onDelete ?? "no action",
          onUpdate: f.onUpdate ?? "no action",
        };
      })
      .sort((a, b) => a.columns.join().localeCompare(b.columns.join())),
    primaryKeys: config.primaryKeys.map((p) => names(p.columns)),
    uniqueConstraints: config.uniqueConstraints.map((u) => names(u.columns)),
  };
}

const sqlName = (t: Table) => (t as unknown as Record<symbol, string>)[Symbol.for("drizzle:Name")];

function tablesOf(schema: Record<string, unknown>): Map<string, Table> {
  return new Map(
    Object.entries(schema)
      .filter((e): e is [string, Table] => is(e[1], Table))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Column SQL name → its property name in the table object. */
function columnKeys(table: Table): Map<string, string> {
  return new Map(
    Object.entries(table)
      .filter(([, v]) => typeof v === "object" && v !== null && "columnType" in v)
      .map(([k, v]) => [(v as { name: string }).name, k]),
  );
}

const sqliteTables = tablesOf(sqliteSchema);
const pgTables = tablesOf(pgSchema);

describe("the SQLite and PostgreSQL schemas are twins", () => {
  test("they export the same tables, each also under the same SQL name", () => {
    expect([...pgTables.keys()]).toEqual([...sqliteTables.keys()]);
    expect([...pgTables.values()].map(sqlName)).toEqual([...sqliteTables.values()].map(sqlName));
    expect(sqliteTables.size).toBeGreaterThan(10);
  });

  test.each([...sqliteTables.keys()])(
    "%s: same columns, kinds, nullability, defaults, enums, indexes and keys",
    (key) => {
      const lite = sqliteTables.get(key) as SQLiteTable;
      const pg = pgTables.get(key) as PgTable | undefined;
      expect(pg).toBeDefined();
      const a = describeTable(sqliteTableConfig(lite) as unknown as ConfigLike, columnKeys(lite));
      const b = describeTable(pgTableConfig(pg as PgTable) as unknown as ConfigLike, columnKeys(pg as PgTable));
      expect(b).toEqual(a);
      expect(a.columns.length).toBeGreaterThan(0);
    },
  );

  test("a difference is seen: a nullable column against a NOT NULL one", () => {
    const lite = describeTable(sqliteTableConfig(sqliteSchema.jobs) as unknown as ConfigLike, new Map());
    const pg = describeTable(pgTableConfig(pgSchema.jobs) as unknown as ConfigLike, new Map());
    const flipped = { ...pg, columns: pg.columns.map((c) => (c.name === "image" ? { ...c, notNull: !c.notNull } : c)) };
    expect(flipped).not.toEqual(lite);
  });
});
