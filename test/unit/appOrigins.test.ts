// The pure parts of serving apps on their own origins: which cookies pass either way, one-use
// tickets, the port an app gets, and commands that never show a notebook's token.
import { describe, expect, test } from "bun:test";
import type { Principal } from "../../src/auth/cache";
import { portCandidates } from "../../src/http/appOrigins";
import { appCookies, appSetCookies } from "../../src/http/forward";
import { AppTickets, cookieValue } from "../../src/http/proxyCookie";
import { visibleCommand } from "../../src/jobs/service";

const alice: Principal = { userId: "alice", role: "user", via: "session", expiresAt: Number.POSITIVE_INFINITY };
const nb = { kind: "notebook", ws: "lab", name: "nb" } as const;

describe("cookies between the browser and an app", () => {
  test("the app's server gets the browser's cookies without Hangar's", () => {
    expect(appCookies("hangar_nb=x; _xsrf=2|ab; HANGAR_token=y; theme=dark")).toBe("_xsrf=2|ab; theme=dark");
    expect(appCookies("hangar_dp=x")).toBeNull();
    expect(appCookies(null)).toBeNull();
  });

  test("an app's Set-Cookie: hangar_* and Domain= dropped, Path kept inside its prefix", () => {
    const lines = [
      "hangar_token=planted; Path=/",
      "Hangar_nb=planted",
      "wide=1; Domain=example.com; Path=/notebooks/lab/nb/",
      "_xsrf=2|ab; Path=/notebooks/lab/nb/",
      "out=1; Path=/",
      "sibling=1; Path=/notebooks/lab/nb2/",
      "bare=1; HttpOnly",
    ];
    expect(appSetCookies(lines, "/notebooks/lab/nb/", false)).toEqual([
      "_xsrf=2|ab; Path=/notebooks/lab/nb/",
      "bare=1; HttpOnly",
    ]);
    // A deployment's server sees / for its prefix: its paths are rewritten under the prefix.
    expect(appSetCookies(["a=1; Path=/", "b=1; Path=/x; Secure", "c=1; path=y"], "/deployments/w/d/", true)).toEqual([
      "a=1; Path=/deployments/w/d/",
      "b=1; Path=/deployments/w/d/x; Secure",
      "c=1; Path=/deployments/w/d/y",
    ]);
  });

  test("cookieValue finds one cookie by its exact name", () => {
    expect(cookieValue("a=1; hangar_nb=v%3D; hangar_nbx=w", "hangar_nb")).toBe("v%3D");
    expect(cookieValue("hangar_nbx=w", "hangar_nb")).toBeNull();
  });
});

describe("tickets", () => {
  test("a ticket works once, for its app, within 30 seconds", () => {
    const t = new AppTickets();
    const a = t.issue(nb, alice, "Bearer hs_abc", 1000);
    expect(t.redeem(nb, a.ticket, 2000)).toBeString();
    expect(t.redeem(nb, a.ticket, 2000)).toBeNull();
    const b = t.issue(nb, alice, "Bearer hs_abc", 1000);
    expect(t.redeem({ ...nb, name: "other" }, b.ticket, 2000)).toBeNull();
    expect(t.redeem(nb, b.ticket, 2000)).toBeNull();
    const c = t.issue(nb, alice, "Bearer hs_abc", 1000);
    expect(t.redeem(nb, c.ticket, 31_001)).toBeNull();
  });

  test("an API key gets no ticket (a login session's only)", () => {
    expect(() => new AppTickets().issue(nb, { ...alice, via: "apikey", accessKey: "ak" }, "Bearer hk_x", 0)).toThrow(
      /login session/,
    );
  });
});

describe("ports", () => {
  test("an app's first port comes from its name, then the rest of the range in turn", () => {
    const ports = portCandidates([20000, 20009], "notebook:lab/nb");
    expect(ports).toHaveLength(10);
    expect(new Set(ports).size).toBe(10);
    expect(portCandidates([20000, 20009], "notebook:lab/nb")).toEqual(ports);
    for (const p of ports) expect(p >= 20000 && p <= 20009).toBe(true);
    expect(portCandidates("any", "x")).toEqual([0]);
  });
});

test("a notebook's token in a command of an earlier version is never shown", () => {
  expect(visibleCommand("jupyter notebook --NotebookApp.token=abc123 --NotebookApp.base_url=/x/")).toBe(
    "jupyter notebook --NotebookApp.token=(hidden) --NotebookApp.base_url=/x/",
  );
});
