// Response shapes of /api/backups.
import { type Static, t } from "elysia";
import { Page, Time } from "../http/schemas";

export const Backup = t.Object({ name: t.String(), bytes: t.Integer(), takenAt: Time });
export type Backup = Static<typeof Backup>;

export const BackupPage = Page(Backup);
