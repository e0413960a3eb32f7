// The dashboard renders real data from a real master (in-process handler, SQLite).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { render } from "ink-testing-library";
import { ApiClient } from "../../tui/client";
import { Dashboard } from "../../tui/Dashboard";
import { initialState, reduce } from "../../tui/state";
import { STORE_TARGETS } from "../helpers/stores";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";

async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(20);
}

describe.each(STORE_TARGETS)("terminal dashboard on %s", (target) => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await startTestMaster(target);
    await m.userWithToken("dash-user");
  });
  afterAll(() => m.close());

  test("shows master health, who is logged in and the users an admin sees", async () => {
    const client = new ApiClient("http://localhost", await m.rootToken(), (r) =>
      m.request(r.method, new URL(r.url).pathname + new URL(r.url).search, { headers: r.headers }),
    );
    const ui = render(<Dashboard client={client} refreshMs={60_000} />);
    await until(() => (ui.lastFrame() ?? "").includes("dash-user"));
    const frame = ui.lastFrame() ?? "";
    expect(frame).toContain("master: ok");
    expect(frame).toContain("logged in as root (admin)");
    expect(frame).toContain("Users (2)");
    expect(frame).toContain("dash-user");
    expect(frame).toContain("r refresh · q quit");
    ui.unmount();
  });

  test("a non-admin sees no user list", async () => {
    const token = await m.login("dash-user", "userPass1!");
    const client = new ApiClient("http://localhost", token, (r) =>
      m.request(r.method, new URL(r.url).pathname, { headers: r.headers }),
    );
    const ui = render(<Dashboard client={client} refreshMs={60_000} />);
    await until(() => (ui.lastFrame() ?? "").includes("logged in as"));
    expect(ui.lastFrame()).toContain("logged in as dash-user (user)");
    expect(ui.lastFrame()).not.toContain("Users (");
    ui.unmount();
  });

  test("reducer: a failure keeps the last data and shows the error", () => {
    const loaded = reduce(initialState, {
      type: "loaded",
      at: new Date(0),
      data: {
        health: { status: "ok", version: "1" },
        me: { userId: "a", role: "user" } as never,
        users: null,
        logDays: null,
      },
    });
    const failed = reduce(reduce(loaded, { type: "refresh" }), { type: "failed", error: "down" });
    expect(failed.data?.health.status).toBe("ok");
    expect(failed.error).toBe("down");
    expect(failed.loading).toBe(false);
  });
});
