// Request and response shapes of /api/users (and the user object /api/me and login return).
import { type Static, t } from "elysia";
import { ROLES } from "../domain/rules";
import { Literals, PASSWORD_MAX, Page, Time, USER_ID_MAX } from "../http/schemas";

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
