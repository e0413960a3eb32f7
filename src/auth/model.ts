// Request and response shapes of /api/auth and /api/me.
import { type Static, t } from "elysia";
import { PASSWORD_MAX, Page, Time } from "../http/schemas";
import { User } from "../users/model";

// Login takes what a user types: generous limits (a wrong ID or password is a 401, not a 400).
export const LoginBody = t.Object({
  userId: t.String({ maxLength: 100 }),
  password: t.String({ maxLength: 200 }),
  otp: t.Optional(t.String({ maxLength: 20 })),
});
export type LoginBody = Static<typeof LoginBody>;

export const LoginResult = t.Object({ token: t.String(), user: User });
export type LoginResult = Static<typeof LoginResult>;

export const PasswordChangeBody = t.Object({
  current: t.String({ maxLength: 200 }),
  next: t.String({ maxLength: PASSWORD_MAX }),
});
export type PasswordChangeBody = Static<typeof PasswordChangeBody>;

export const ApiKeyCreated = t.Object({
  accessKey: t.String(),
  secretKey: t.String({ description: "shown once" }),
});
export type ApiKeyCreated = Static<typeof ApiKeyCreated>;

export const ApiKey = t.Object({ accessKey: t.String(), createdAt: Time, lastUsedAt: t.Nullable(Time) });
export type ApiKey = Static<typeof ApiKey>;

export const ApiKeyPage = Page(ApiKey);

export const SshKeyBody = t.Object({ publicKey: t.String({ maxLength: 16_384 }) });
export type SshKeyBody = Static<typeof SshKeyBody>;

export const TotpSetup = t.Object({ secret: t.String(), otpauthUrl: t.String() });
export type TotpSetup = Static<typeof TotpSetup>;

export const TotpCodeBody = t.Object({ code: t.String({ maxLength: 20 }) });
export type TotpCodeBody = Static<typeof TotpCodeBody>;
