// Request and response shapes of /api/users (and the user object /api/me and login return).
import { type Static, t } from "elysia";
import { ROLES } from "../domain/rules";
import { Literals, PASSWORD_MAX, Page, pageQuery, Time, USER_ID_MAX } from "../http/schemas";

export const RoleName = Literals(ROLES);

export const User = t.Object({
  userId: t.String(),
  role: RoleName,
  active: t.Boolean(),
  mustChangePassword: t.Boolean(),
  totpEnabled: t.Boolean(),
  hasSshKey: t.Boolean(),
  createdAt: Time,
  updatedAt: Time,
});
export type User = Static<typeof User>;

export const UserPage = Page(User);
export type UserPage = Static<typeof UserPage>;

export const CreateUserBody = t.Object({
  userId: t.String({ maxLength: USER_ID_MAX }),
  password: t.String({ maxLength: PASSWORD_MAX }),
  role: RoleName,
});
export type CreateUserBody = Static<typeof CreateUserBody>;

export const PatchUserBody = t.Object({
  role: t.Optional(RoleName),
  password: t.Optional(t.String({ maxLength: PASSWORD_MAX })),
  active: t.Optional(t.Boolean()),
});
export type PatchUserBody = Static<typeof PatchUserBody>;

/** A user as a workspace manager may see them: the ID only (roles, keys, 2FA stay admin-only). */
export const UserIdPage = Page(t.Object({ userId: t.String() }));
export type UserIdPage = Static<typeof UserIdPage>;

export const UserIdQuery = t.Object({
  ...pageQuery.properties,
  q: t.Optional(t.String({ maxLength: 40, description: "only IDs starting with this" })),
});
