// Admin view of the access log files: list days, read one, delete one.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import type { Deps } from "../deps";
import { badRequest, notFound } from "../domain/errors";

const DAY = /^\d{8}$/;

export function listDays(deps: Deps): { items: { day: string; bytes: number }[]; total: number } {
  deps.accessLog.flush();
  const dir = deps.accessLog.dir;
  const items = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /^\d{8}\.log$/.test(f))
        .sort()
        .reverse()
        .map((f) => ({ day: f.slice(0, 8), bytes: statSync(deps.accessLog.file(f.slice(0, 8))).size }))
    : [];
  return { items, total: items.length };
}

function dayFile(deps: Deps, day: string): string {
  if (!DAY.test(day)) throw badRequest("day", "day must be YYYYMMDD");
  const file = deps.accessLog.file(day);
  if (!existsSync(file)) throw notFound(`access log of ${day}`);
  return file;
}

export function readDay(deps: Deps, day: string): Blob {
  deps.accessLog.flush();
  return Bun.file(dayFile(deps, day));
}

export function deleteDay(deps: Deps, day: string): void {
  deps.accessLog.flush();
  const file = dayFile(deps, day);
  deps.accessLog.release(day);
  rmSync(file);
}
