// Writes pairs (a user w-N and an API key of w-N) in one transaction each, as fast as it can,
// until SIGTERM; prints how many pairs it committed. A consistent backup holds whole pairs only.
// usage: bun test/helpers/pairWriter.ts sqlite <file> | postgres <url>
import { Database } from "bun:sqlite";
import postgres from "postgres";

const [kind, target] = process.argv.slice(2);
let stop = false;
let n = 0;
process.on("SIGTERM", () => {
  stop = true;
});
const now = () => new Date().toISOString();
const prefix = `w${process.pid}-`;

if (kind === "sqlite") {
  const db = new Database(target as string);
  db.run("PRAGMA busy_timeout = 5000");
  const insertPair = db.transaction((i: number) => {
    const id = `${prefix}${i}`;
    db.run("INSERT INTO users (user_id, role, password_hash, created_at, updated_at) VALUES (?, 'user', 'x', ?, ?)", [
      id,
      now(),
      now(),
    ]);
    db.run("INSERT INTO api_keys (access_key, secret_hash, user_id, created_at) VALUES (?, ?, ?, ?)", [
      `AK${id}`,
      `h${id}`,
      id,
      now(),
    ]);
  });
  console.log("writing");
  while (!stop) {
    insertPair(n++);
    if (n % 20 === 0) await Bun.sleep(1);
  }
} else {
  const sql = postgres(target as string, { max: 1, onnotice: () => {} });
  console.log("writing");
  while (!stop) {
    const id = `${prefix}${n}`;
    await sql.begin(async (tx) => {
      await tx`INSERT INTO users (user_id, role, password_hash, created_at, updated_at) VALUES (${id}, 'user', 'x', ${now()}, ${now()})`;
      await tx`INSERT INTO api_keys (access_key, secret_hash, user_id, created_at) VALUES (${`AK${id}`}, ${`h${id}`}, ${id}, ${now()})`;
    });
    n++;
  }
  await sql.end();
}
console.log(`pairs ${n}`);
