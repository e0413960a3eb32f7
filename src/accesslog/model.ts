// Response shapes of /api/access-logs.
import { type Static, t } from "elysia";
import { Page } from "../http/schemas";

export const AccessLogDay = t.Object({ day: t.String({ description: "YYYYMMDD" }), bytes: t.Integer() });
export type AccessLogDay = Static<typeof AccessLogDay>;

export const AccessLogDayPage = Page(AccessLogDay);
export type AccessLogDayPage = Static<typeof AccessLogDayPage>;
