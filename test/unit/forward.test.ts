import { afterAll, describe, expect, test } from "bun:test";
import { rememberClientAddress } from "../../src/auth/context";
import { forwardHttp } from "../../src/http/forward";

describe("forwardHttp", () => {
  const upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) =>
      Response.json({
        xff: req.headers.get("x-forwarded-for"),
        forwarded: req.headers.get("forwarded"),
        realIp: req.headers.get("x-real-ip"),
      }),
  });
  afterAll(() => upstream.stop(true));
  const spoofed = { "x-forwarded-for": "6.6.6.6", forwarded: "for=6.6.6.6", "x-real-ip": "6.6.6.6" };

  test("sets X-Forwarded-For to the peer address the master saw, dropping the client's own", async () => {
    const request = new Request("http://master/deployments/a/b/", { headers: spoofed });
    rememberClientAddress(request, "10.1.2.3");
    const res = await forwardHttp(`http://127.0.0.1:${upstream.port}/`, request, new Headers(spoofed), undefined);
    expect(await res.json()).toEqual({ xff: "10.1.2.3", forwarded: null, realIp: null });
  });

  test("without a known peer no forwarding header passes at all", async () => {
    const request = new Request("http://master/notebooks/x/", { headers: spoofed });
    const res = await forwardHttp(`http://127.0.0.1:${upstream.port}/`, request, new Headers(spoofed), undefined);
    expect(await res.json()).toEqual({ xff: null, forwarded: null, realIp: null });
  });
});
