// Key pairs the master makes must be readable by ssh2 itself: its generator alone makes a pair
// its parser rejects about once in 400 (seen as "Malformed OpenSSH private key" in a test run).
import { describe, expect, test } from "bun:test";
import { utils } from "ssh2";
import { newEd25519Pair } from "../../src/ssh/keys";

describe("ed25519 key pairs", () => {
  test("2,000 new pairs all parse, private and public halves", () => {
    let unreadable = 0;
    for (let i = 0; i < 2000; i++) {
      const pair = newEd25519Pair("hangar-test");
      if (utils.parseKey(pair.private) instanceof Error || utils.parseKey(pair.public) instanceof Error) unreadable++;
    }
    expect(unreadable).toBe(0);
  });
});
