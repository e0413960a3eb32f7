import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretBox } from "../../src/lib/sealed";

describe("SecretBox", () => {
  test("seals with a fresh IV each time, opens back, and reads legacy plaintext as is", () => {
    const dir = mkdtempSync(join(tmpdir(), "hangar-sealed-"));
    try {
      const file = join(dir, "ssh", "secrets.key");
      const box = SecretBox.loadOrCreate(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, "ssh")).mode & 0o777).toBe(0o700);
      const a = box.seal("JBSWY3DPEHPK3PXP");
      const b = box.seal("JBSWY3DPEHPK3PXP");
      expect(a).not.toBe(b);
      expect(a).not.toContain("JBSWY3DPEHPK3PXP");
      expect(SecretBox.isSealed(a)).toBe(true);
      expect(box.open(a)).toBe("JBSWY3DPEHPK3PXP");
      expect(box.open("legacyPlain")).toBe("legacyPlain");
      // The same key file gives the same key; another key cannot open it; tampering is caught.
      expect(SecretBox.loadOrCreate(file).open(b)).toBe("JBSWY3DPEHPK3PXP");
      expect(readFileSync(file, "utf8").trim().length).toBeGreaterThan(40);
      expect(() => new SecretBox(Buffer.alloc(32, 7)).open(a)).toThrow();
      const raw = Buffer.from(a.slice(5), "base64");
      raw[14] = (raw[14] as number) ^ 1;
      expect(() => box.open(`enc1:${raw.toString("base64")}`)).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
