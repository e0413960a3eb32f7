// Accounts, roles, tokens, API keys, TOTP and throttling over the API, on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { dayOf } from "../../src/accesslog/writer";
import { sealPlaintextSecrets } from "../../src/auth/sealAtRest";
import { totpCode } from "../../src/auth/totp";
import { SESSION_SWEEP_TIMER } from "../../src/master";
import { STORE_TARGETS } from "../helpers/stores";
import { passwords, userIds } from "../helpers/tables";
import { ROOT_PASSWORD, startTestMaster, type TestMaster } from "../helpers/testMaster";

for (const target of STORE_TARGETS) {
  describe(`accounts on ${target}`, () => {
    let m: TestMaster;
    let root: string;
    let rootFirst: { status: number; body: any };
    beforeAll(async () => {
      m = await startTestMaster(target, { apiKeyRateLimit: 5, loginMaxFailures: 10 });
      // Root's very first login, before the test helper changes its password.
      rootFirst = await m.json("POST", "/api/auth/login", { body: { userId: "root", password: ROOT_PASSWORD } });
      root = await m.rootToken();
    });
    /** An account made by root, logged in without changing its first password (the flag stays). */
    const firstLogin = async (userId: string, password: string) => {
      const made = await m.json("POST", "/api/users", { token: root, body: { userId, password, role: "user" } });
      expect(made.status).toBe(201);
      return (await m.json("POST", "/api/auth/login", { body: { userId, password } })).body.token as string;
    };
    afterAll(() => m.close());

    const userCount = async () => (await m.json("GET", "/api/users?limit=1", { token: root })).body.total as number;

    test("root is bootstrapped as admin who must change the password", async () => {
      const res = rootFirst;
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ userId: "root", role: "admin", mustChangePassword: true });
      expect(res.body.token).toMatch(/^hs_/);
    });

    test("until the password is changed only the change, GET /api/me and logout work", async () => {
      const token = await firstLogin("newbie", "firstPass1!");
      for (const [method, path] of [
        ["GET", "/api/workspaces"],
        ["GET", "/api/users"],
        ["POST", "/api/me/keys"],
        ["PUT", "/api/me/ssh-key"],
      ] as const) {
        const res = await m.json(method, path, { token, body: method === "GET" ? undefined : {} });
        expect(`${method} ${path} ${res.status} ${res.body.error?.code}`).toBe(
          `${method} ${path} 403 password_change_required`,
        );
      }
      const me = await m.json("GET", "/api/me", { token });
      expect(me.status).toBe(200);
      expect(me.body.mustChangePassword).toBe(true);
      // Logout works while the flag is set.
      const other = (await m.json("POST", "/api/auth/login", { body: { userId: "newbie", password: "firstPass1!" } }))
        .body.token;
      expect((await m.request("POST", "/api/auth/logout", { token: other })).status).toBe(204);
      // After the change the same session may do everything its role allows.
      const changed = await m.json("POST", "/api/me/password", {
        token,
        body: { current: "firstPass1!", next: "secondPass2@" },
      });
      expect(changed.status).toBe(204);
      expect((await m.json("GET", "/api/workspaces", { token })).status).toBe(200);
      // An admin's new password for the user sets the flag again (and ends the user's sessions).
      expect(
        (await m.json("PATCH", "/api/users/newbie", { token: root, body: { password: "thirdPass3#" } })).status,
      ).toBe(200);
      const again = (await m.json("POST", "/api/auth/login", { body: { userId: "newbie", password: "thirdPass3#" } }))
        .body.token;
      expect((await m.json("GET", "/api/workspaces", { token: again })).status).toBe(403);
    });

    test("every user ID rule: invalid ones get 400 naming userId and store nothing", async () => {
      const before = await userCount();
      let created = 0;
      for (const [userId, valid] of userIds) {
        const res = await m.json("POST", "/api/users", {
          token: root,
          body: { userId, password: "goodPass1!", role: "user" },
        });
        if (valid) {
          expect(res.status).toBe(201);
          created++;
        } else {
          expect(res.status).toBe(400);
          expect(res.body.error.field).toBe("userId");
          expect(res.body.error.message.length).toBeGreaterThan(5);
        }
      }
      expect(await userCount()).toBe(before + created);
    });

    test("every password rule: invalid ones get 400 naming password and store nothing", async () => {
      const before = await userCount();
      let i = 0;
      for (const [password, valid] of passwords) {
        const userId = `pw-${valid ? "ok" : "bad"}-${i++}`;
        const res = await m.json("POST", "/api/users", { token: root, body: { userId, password, role: "user" } });
        expect(res.status).toBe(valid ? 201 : 400);
        if (!valid) expect(res.body.error.field).toBe("password");
        const lookup = await m.json("GET", `/api/users/${userId}`, { token: root });
        expect(lookup.status).toBe(valid ? 200 : 404);
      }
      expect(await userCount()).toBe(before + passwords.filter(([, v]) => v).length);
    });

    test("schema failures are 400 naming the field, not 422", async () => {
      const cases: [unknown, string][] = [
        [{ userId: 5, password: "goodPass1!", role: "user" }, "userId"],
        [{ userId: "okname", role: "user" }, "password"],
        [{ userId: "okname", password: "goodPass1!", role: "boss" }, "role"],
      ];
      for (const [body, field] of cases) {
        const res = await m.json("POST", "/api/users", { token: root, body });
        expect(res.status).toBe(400);
        expect(res.body.error.field).toBe(field);
      }
      const bad = await m.request("POST", "/api/users", {
        token: root,
        headers: { "content-type": "application/json" },
      });
      expect(bad.status).toBe(400);
      const limit = await m.json("GET", "/api/users?limit=0", { token: root });
      expect(limit.status).toBe(400);
      expect(limit.body.error.field).toBe("limit");
    });

    test("a duplicate user ID is a 409", async () => {
      await m.json("POST", "/api/users", {
        token: root,
        body: { userId: "dup-user", password: "goodPass1!", role: "user" },
      });
      const res = await m.json("POST", "/api/users", {
        token: root,
        body: { userId: "dup-user", password: "goodPass1!", role: "user" },
      });
      expect(res.status).toBe(409);
      expect(res.body.error.field).toBe("userId");
    });

    test("users list pages with limit and offset", async () => {
      const all = await m.json("GET", "/api/users?limit=500", { token: root });
      const page = await m.json("GET", "/api/users?limit=2&offset=1", { token: root });
      expect(page.body.total).toBe(all.body.total);
      expect(page.body.items.map((u: { userId: string }) => u.userId)).toEqual(
        all.body.items.slice(1, 3).map((u: { userId: string }) => u.userId),
      );
    });

    test("a non-admin gets 403 on every admin route in the OpenAPI document", async () => {
      const doc = (await m.json("GET", "/api/openapi.json")).body;
      const adminRoutes: [string, string][] = [];
      for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { summary?: string }>>))
        for (const [method, op] of Object.entries(ops))
          if (op.summary?.includes("(admin)")) adminRoutes.push([method.toUpperCase(), path]);
      expect(adminRoutes.length).toBeGreaterThanOrEqual(8);
      for (const role of ["user", "owner", "manager"]) {
        const token = await m.userWithToken(`plain-${role}`, role);
        for (const [method, path] of adminRoutes) {
          const concrete = path
            .replace("{userId}", "root")
            .replace("{day}", "20260101")
            .replace(/\{[^}]+\}/g, "x");
          const res = await m.json(method, concrete, {
            token,
            body: method === "GET" || method === "DELETE" ? undefined : {},
          });
          expect(`${role} ${method} ${concrete} ${res.status}`).toBe(`${role} ${method} ${concrete} 403`);
        }
      }
    });

    test("no token or a bad token is 401", async () => {
      expect((await m.json("GET", "/api/me")).status).toBe(401);
      expect((await m.json("GET", "/api/me", { token: "hs_nonsense" })).status).toBe(401);
      expect((await m.json("GET", "/api/users", { token: "hk_nonsense" })).status).toBe(401);
    });

    test("me, password change and logout", async () => {
      const token = await firstLogin("changer", "firstPass1!");
      const me = await m.json("GET", "/api/me", { token });
      expect(me.body).toMatchObject({ userId: "changer", role: "user", mustChangePassword: true });
      const wrong = await m.json("POST", "/api/me/password", {
        token,
        body: { current: "nope", next: "secondPass2@" },
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.field).toBe("current");
      const weak = await m.json("POST", "/api/me/password", { token, body: { current: "firstPass1!", next: "short" } });
      expect(weak.status).toBe(400);
      expect(weak.body.error.field).toBe("next");
      const ok = await m.json("POST", "/api/me/password", {
        token,
        body: { current: "firstPass1!", next: "secondPass2@" },
      });
      expect(ok.status).toBe(204);
      expect(
        (await m.json("POST", "/api/auth/login", { body: { userId: "changer", password: "firstPass1!" } })).status,
      ).toBe(401);
      const fresh = await m.login("changer", "secondPass2@");
      expect((await m.json("GET", "/api/me", { token: fresh })).body.mustChangePassword).toBe(false);
      expect((await m.request("POST", "/api/auth/logout", { token: fresh })).status).toBe(204);
      expect((await m.json("GET", "/api/me", { token: fresh })).status).toBe(401);
    });

    test("a password change ends the user's other sessions; this session and API keys stay", async () => {
      const here = await m.userWithToken("rotator", "user", "firstPass1!");
      const elsewhere = await m.login("rotator", "firstPass1!");
      const key = (await m.json("POST", "/api/me/keys", { token: here })).body;
      expect((await m.json("GET", "/api/me", { token: elsewhere })).status).toBe(200);
      const ok = await m.json("POST", "/api/me/password", {
        token: here,
        body: { current: "firstPass1!", next: "secondPass2@" },
      });
      expect(ok.status).toBe(204);
      expect((await m.json("GET", "/api/me", { token: elsewhere })).status).toBe(401);
      expect((await m.json("GET", "/api/me", { token: here })).status).toBe(200);
      expect((await m.json("GET", "/api/me", { token: key.secretKey })).status).toBe(200);
    });

    test("a session expires after HANGAR_SESSION_HOURS", async () => {
      const token = await m.userWithToken("expiring");
      expect((await m.json("GET", "/api/me", { token })).status).toBe(200);
      m.clock.advance(m.config.sessionHours * 3600_000 + 1000);
      try {
        expect((await m.json("GET", "/api/me", { token })).status).toBe(401);
      } finally {
        m.clock.advance(-(m.config.sessionHours * 3600_000 + 1000));
      }
    });

    test("the hourly sweep deletes expired sessions and keeps live ones", async () => {
      const live = await m.userWithToken("sweepme");
      const { store } = m.deps;
      const now = m.clock.now().getTime();
      await store.tx((db) =>
        db.insert(store.t.sessions).values({
          tokenHash: "expired-session-of-sweepme",
          userId: "sweepme",
          createdAt: new Date(now - 2 * 3600_000).toISOString(),
          expiresAt: new Date(now - 1000).toISOString(),
        }),
      );
      const rows = async () =>
        (await store.db.select().from(store.t.sessions).where(eq(store.t.sessions.userId, "sweepme"))).length;
      expect(await rows()).toBe(2);
      expect(m.ticker.periodOf(SESSION_SWEEP_TIMER)).toBe(3600_000);
      await m.ticker.tick(SESSION_SWEEP_TIMER);
      expect(await rows()).toBe(1);
      expect((await m.json("GET", "/api/me", { token: live })).status).toBe(200);
    });

    test("a deactivated user cannot log in, and its old token and API key get 401 at once", async () => {
      const token = await m.userWithToken("leaver");
      const key = (await m.json("POST", "/api/me/keys", { token })).body;
      expect((await m.json("GET", "/api/me", { token })).status).toBe(200);
      expect((await m.json("GET", "/api/me", { token: key.secretKey })).status).toBe(200);
      const off = await m.json("PATCH", "/api/users/leaver", { token: root, body: { active: false } });
      expect(off.status).toBe(200);
      expect(off.body.active).toBe(false);
      expect((await m.json("GET", "/api/me", { token })).status).toBe(401);
      expect((await m.json("GET", "/api/me", { token: key.secretKey })).status).toBe(401);
      const login = await m.json("POST", "/api/auth/login", { body: { userId: "leaver", password: "userPass1!" } });
      expect(login.status).toBe(401);
      expect(login.body.error.code).toBe("account_deactivated");
      // A wrong password gets the very same answer: it does not confirm a guessed password.
      const guess = await m.json("POST", "/api/auth/login", { body: { userId: "leaver", password: "guessPass1!" } });
      expect(guess).toEqual(login);
      // The account stays listed (usage history): deactivated, never deleted.
      expect((await m.json("GET", "/api/users/leaver", { token: root })).body.active).toBe(false);
      expect((await m.json("PATCH", "/api/users/leaver", { token: root, body: { active: true } })).status).toBe(200);
      expect(
        (await m.json("POST", "/api/auth/login", { body: { userId: "leaver", password: "userPass1!" } })).status,
      ).toBe(200);
    });

    test("admins change roles and passwords; the last admin cannot be removed", async () => {
      const token = await m.userWithToken("promoted");
      expect((await m.json("GET", "/api/users", { token })).status).toBe(403);
      await m.json("PATCH", "/api/users/promoted", { token: root, body: { role: "admin" } });
      // A role change ends cached principals: the same token now carries the new role.
      expect((await m.json("GET", "/api/users", { token })).status).toBe(200);
      const pw = await m.json("PATCH", "/api/users/promoted", { token: root, body: { password: "resetPass9?" } });
      expect(pw.body.mustChangePassword).toBe(true);
      expect((await m.json("GET", "/api/me", { token })).status).toBe(401);
      const self = await m.json("PATCH", "/api/users/root", { token: root, body: { active: false } });
      expect(self.status).toBe(400);
      expect(self.body.error.field).toBe("active");
      const badRole = await m.json("PATCH", "/api/users/promoted", { token: root, body: { role: "god" } });
      expect(badRole.status).toBe(400);
      expect(badRole.body.error.field).toBe("role");
      const missing = await m.json("PATCH", "/api/users/nobody-here", { token: root, body: { active: false } });
      expect(missing.status).toBe(404);
    });

    test("login throttling: after 10 failures in 15 minutes even the right password gets 429", async () => {
      await m.userWithToken("guessed");
      for (let i = 0; i < 10; i++) {
        const res = await m.json("POST", "/api/auth/login", { body: { userId: "guessed", password: `wrong${i}!x` } });
        expect(res.status).toBe(401);
      }
      const blocked = await m.request("POST", "/api/auth/login", {
        body: { userId: "guessed", password: "userPass1!" },
      });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
      // Other accounts are not affected.
      expect(
        (await m.json("POST", "/api/auth/login", { body: { userId: "root", password: ROOT_PASSWORD } })).status,
      ).toBe(200);
      m.clock.advance(15 * 60_000 + 1000);
      expect(
        (await m.json("POST", "/api/auth/login", { body: { userId: "guessed", password: "userPass1!" } })).status,
      ).toBe(200);
    });

    test("API keys work as bearer tokens with a per-15-minute limit, and can be revoked", async () => {
      const token = await m.userWithToken("scripter");
      const created = await m.json("POST", "/api/me/keys", { token });
      expect(created.status).toBe(201);
      const { accessKey, secretKey } = created.body;
      expect(secretKey).toMatch(/^hk_/);
      const listed = await m.json("GET", "/api/me/keys", { token });
      expect(listed.body.items.map((k: { accessKey: string }) => k.accessKey)).toEqual([accessKey]);
      expect(JSON.stringify(listed.body)).not.toContain(secretKey);
      for (let i = 0; i < 5; i++) expect((await m.json("GET", "/api/me", { token: secretKey })).status).toBe(200);
      const limited = await m.request("GET", "/api/me", { token: secretKey });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      m.clock.advance(15 * 60_000);
      expect((await m.json("GET", "/api/me", { token: secretKey })).status).toBe(200);
      expect((await m.request("DELETE", `/api/me/keys/${accessKey}`, { token })).status).toBe(204);
      expect((await m.json("GET", "/api/me", { token: secretKey })).status).toBe(401);
      expect((await m.request("DELETE", `/api/me/keys/${accessKey}`, { token })).status).toBe(404);
    });

    test("API keys: at most 20 per user (409 naming why); credentials are managed from a session only", async () => {
      const token = await m.userWithToken("keyholder");
      const keys: { accessKey: string; secretKey: string }[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await m.json("POST", "/api/me/keys", { token });
        expect(res.status).toBe(201);
        keys.push(res.body);
      }
      const over = await m.json("POST", "/api/me/keys", { token });
      expect(over.status).toBe(409);
      expect(over.body.error.code).toBe("api_key_limit");
      expect(over.body.error.message).toContain("20");
      // A different key per request: this master allows 5 requests per key and 15 minutes.
      let next = 2;
      const key = () => keys[next++]?.secretKey as string;
      const viaKey: [string, string, unknown?][] = [
        ["POST", "/api/me/keys"],
        ["DELETE", `/api/me/keys/${keys[1]?.accessKey}`],
        ["POST", "/api/me/password", { current: "userPass1!", next: "otherPass2@" }],
        ["POST", "/api/me/totp"],
        ["POST", "/api/me/totp/confirm", { code: "123456" }],
        ["DELETE", "/api/me/totp", { code: "123456" }],
      ];
      for (const [method, path, body] of viaKey) {
        const res = await m.json(method, path, { token: key(), body });
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 403`);
        expect(res.body.error.code).toBe("session_required");
        expect(res.body.error.message).toContain("API key");
      }
      // The key still reads; the session still manages.
      expect((await m.json("GET", "/api/me/keys", { token: key() })).body.total).toBe(20);
      expect((await m.request("DELETE", `/api/me/keys/${keys[1]?.accessKey}`, { token })).status).toBe(204);
      expect((await m.json("POST", "/api/me/keys", { token })).status).toBe(201);
    });

    test("TOTP: enabled with a confirmation code, then login needs otp", async () => {
      const token = await m.userWithToken("careful", "user", "carefulPw1!");
      const setup = await m.json("POST", "/api/me/totp", { token });
      expect(setup.status).toBe(200);
      expect(setup.body.otpauthUrl).toContain("otpauth://totp/");
      const secret = setup.body.secret as string;
      expect((await m.json("POST", "/api/me/totp/confirm", { token, body: { code: "000000" } })).status).toBe(400);
      // Not on until confirmed:
      expect(
        (await m.json("POST", "/api/auth/login", { body: { userId: "careful", password: "carefulPw1!" } })).status,
      ).toBe(200);
      const confirm = await m.json("POST", "/api/me/totp/confirm", {
        token,
        body: { code: totpCode(secret, m.clock.now()) },
      });
      expect(confirm.status).toBe(200);
      expect(confirm.body.totpEnabled).toBe(true);
      const noOtp = await m.json("POST", "/api/auth/login", { body: { userId: "careful", password: "carefulPw1!" } });
      expect(noOtp.status).toBe(401);
      expect(noOtp.body.error).toMatchObject({ code: "otp_required", field: "otp" });
      const wrongOtp = await m.json("POST", "/api/auth/login", {
        body: { userId: "careful", password: "carefulPw1!", otp: "123456" },
      });
      expect(wrongOtp.body.error.code).toBe("invalid_otp");
      // The confirmation used this step's code: it does not log in again (replay).
      const replay = await m.json("POST", "/api/auth/login", {
        body: { userId: "careful", password: "carefulPw1!", otp: totpCode(secret, m.clock.now()) },
      });
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe("invalid_otp");
      m.clock.advance(30_000);
      const code = totpCode(secret, m.clock.now());
      const ok = await m.login("careful", "carefulPw1!", code);
      expect(ok).toMatch(/^hs_/);
      // Nor does a code that logged in once, nor the previous step's (still in the drift window).
      for (const otp of [code, totpCode(secret, new Date(m.clock.now().getTime() - 30_000))]) {
        const again = await m.json("POST", "/api/auth/login", {
          body: { userId: "careful", password: "carefulPw1!", otp },
        });
        expect(again.status).toBe(401);
      }
      m.clock.advance(30_000);
      expect(await m.login("careful", "carefulPw1!", totpCode(secret, m.clock.now()))).toMatch(/^hs_/);
    });

    test("TOTP seeds are stored sealed; legacy plaintext ones still work and are sealed at start", async () => {
      const token = await m.userWithToken("sealed", "user", "sealedPw1!");
      const { store } = m.deps;
      const seed = async (userId: string) =>
        (await store.db.select().from(store.t.users).where(eq(store.t.users.userId, userId)))[0]?.totpSecret;
      const setup = await m.json("POST", "/api/me/totp", { token });
      const stored = (await seed("sealed")) as string;
      expect(stored).toStartWith("enc1:");
      expect(stored).not.toContain(setup.body.secret);
      // A seed an older master stored in plaintext.
      const legacy = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
      await m.userWithToken("legacy", "user", "legacyPw1!");
      await store.tx((db) =>
        db
          .update(store.t.users)
          .set({ totpSecret: legacy, totpEnabled: true })
          .where(eq(store.t.users.userId, "legacy")),
      );
      m.clock.advance(30_000);
      expect(await m.login("legacy", "legacyPw1!", totpCode(legacy, m.clock.now()))).toMatch(/^hs_/);
      expect(await sealPlaintextSecrets(m.deps)).toBeGreaterThanOrEqual(1);
      const resealed = (await seed("legacy")) as string;
      expect(resealed).toStartWith("enc1:");
      expect(m.deps.secrets.open(resealed)).toBe(legacy);
      expect(await sealPlaintextSecrets(m.deps)).toBe(0);
      m.clock.advance(30_000);
      expect(await m.login("legacy", "legacyPw1!", totpCode(legacy, m.clock.now()))).toMatch(/^hs_/);
    });

    test("ssh public key: OpenSSH format accepted, garbage refused", async () => {
      const token = await m.userWithToken("sshuser");
      const bad = await m.json("PUT", "/api/me/ssh-key", { token, body: { publicKey: "ssh-rsa not-a-key" } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe("publicKey");
      const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@hangar";
      const ok = await m.json("PUT", "/api/me/ssh-key", { token, body: { publicKey: key } });
      expect(ok.status).toBe(200);
      expect(ok.body.hasSshKey).toBe(true);
    });

    test("access log: one line per request with user, method, path and status; admin lists, reads, deletes", async () => {
      const token = await m.userWithToken("logged");
      await m.json("GET", "/api/me", { token });
      await m.json("GET", "/api/users", { token });
      m.deps.accessLog.flush();
      const days = await m.json("GET", "/api/access-logs", { token: root });
      expect(days.status).toBe(200);
      // The day of the master's clock (an earlier test moved it past midnight and back, so
      // the newest file can be another day's).
      const day = dayOf(m.clock.now());
      expect(days.body.items.map((i: { day: string }) => i.day)).toContain(day);
      expect(days.body.items.every((i: { day: string }) => /^\d{8}$/.test(i.day))).toBe(true);
      const text = await (await m.request("GET", `/api/access-logs/${day}`, { token: root })).text();
      const lines = text
        .trim()
        .split("\n")
        .map((l) => l.split("\t"));
      expect(lines.some((f) => f[1] === "logged" && f[3] === "GET" && f[4] === "/api/me" && f[5] === "200")).toBe(true);
      expect(lines.some((f) => f[1] === "logged" && f[4] === "/api/users" && f[5] === "403")).toBe(true);
      expect(lines.every((f) => f.length === 7 && /ms$/.test(f[6] as string))).toBe(true);
      expect((await m.json("GET", "/api/access-logs/2026-01-01", { token: root })).body.error.field).toBe("day");
      expect((await m.json("GET", "/api/access-logs/19990101", { token: root })).status).toBe(404);
      expect((await m.request("DELETE", `/api/access-logs/${day}`, { token: root })).status).toBe(204);
      // Today's file starts again with the requests made after the delete; the old lines are gone.
      const after = await (await m.request("GET", `/api/access-logs/${day}`, { token: root })).text();
      expect(after).not.toContain("\tlogged\t");
      expect(after.trim().split("\n").length).toBeLessThan(lines.length);
    });
  });

  describe(`login throttling on ${target}`, () => {
    test("login throttling is per address and account: a flood elsewhere never locks out a known-good client", async () => {
      // loginMaxFailures 2: 2 per address and account, 10 per account, 20 per address.
      const m = await startTestMaster(target, { loginMaxFailures: 2 });
      try {
        await m.userWithToken("target");
        const tryLogin = (password: string, ip: string) =>
          m.json("POST", "/api/auth/login", { ip, body: { userId: "target", password } });
        // The owner logged in from 10.0.0.1 before.
        expect((await tryLogin("userPass1!", "10.0.0.1")).status).toBe(200);
        // An attacker guesses from 12 addresses, 1 try each (under the per-address limit of 2).
        for (let a = 0; a < 12; a++)
          for (let i = 0; i < 1; i++) {
            const res = await tryLogin(`guess${i}x!a`, `10.9.${a}.1`);
            expect([401, 429]).toContain(res.status);
          }
        // A new address is blocked for this account (account-wide limit) ...
        expect((await tryLogin("userPass1!", "10.0.0.2")).status).toBe(429);
        // ... the known-good one is not, and other accounts are not affected at all.
        expect((await tryLogin("userPass1!", "10.0.0.1")).status).toBe(200);
        expect(
          (
            await m.json("POST", "/api/auth/login", {
              ip: "10.0.0.2",
              body: { userId: "root", password: ROOT_PASSWORD },
            })
          ).status,
        ).toBe(200);
        // One address guessing many accounts is stopped after 20 failures in the window.
        for (let i = 0; i < 20; i++)
          await m.json("POST", "/api/auth/login", {
            ip: "10.8.0.1",
            body: { userId: `nobody${i}`, password: "x1!aaaaa" },
          });
        const spray = await m.request("POST", "/api/auth/login", {
          ip: "10.8.0.1",
          body: { userId: "root", password: ROOT_PASSWORD },
        });
        expect(spray.status).toBe(429);
        m.clock.advance(15 * 60_000 + 1000);
        expect((await tryLogin("userPass1!", "10.0.0.2")).status).toBe(200);
      } finally {
        await m.close();
      }
    });
  });
}
