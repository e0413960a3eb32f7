import { describe, expect, test } from "bun:test";
import { nameProblem, passwordProblem, userIdProblem } from "../../src/domain/rules";

// SPEC §2: user ID 3–20 chars of [a-z0-9-], no "--", no hyphen first or last.
const userIds: [string, boolean][] = [
  ["abc", true],
  ["a-b", true],
  ["user-01", true],
  ["a1b2c3d4e5f6g7h8i9j0", true], // 20 chars
  ["123", true],
  ["ab", false],
  ["a", false],
  ["", false],
  ["a--b", false],
  ["-ab", false],
  ["ab-", false],
  ["Abc", false],
  ["a1b2c3d4e5f6g7h8i9j0k", false], // 21 chars
  ["ab c", false],
  ["ab_c", false],
  ["ab.c", false],
  ["한국어", false],
  ["abc\0", false],
];

// 8–20 chars from letters, digits and ~!@#$%^&*<>?, with a letter, a digit and a special.
const passwords: [string, boolean][] = [
  ["abcdef1!", true],
  ["Passw0rd~", true],
  ["aaaaaaaaaaaaaaaaaa1?", true], // 20 chars
  ["A1<>^&*%$#@!~?", true],
  ["abcde1!", false], // 7 chars
  ["aaaaaaaaaaaaaaaaaa1?x", false], // 21 chars
  ["abcdefg!", false], // no digit
  ["12345678!", false], // no letter
  ["abcdefg1", false], // no special
  ["abc def1!", false], // space
  ["abcdef1(", false], // ( is not allowed
  ["abcdef1-!", false], // - is not allowed
  ["abcdéf1!", false], // non-ASCII
  ["", false],
];

const names: [string, boolean][] = [
  ["a", true],
  ["test-ws", true],
  ["ws-2026-gpu-lab-01ab", true], // 20
  ["ws-2026-gpu-lab-01abc", false], // 21
  ["", false],
  ["Test", false],
  ["test--ws", false],
  ["-ws", false],
  ["ws-", false],
  ["ws ws", false],
  ["워크스페이스", false],
];

describe("user ID rule", () => {
  test.each(userIds)("%p valid=%p", (value, valid) => {
    expect(userIdProblem(value) === null).toBe(valid);
  });
});

describe("password rule", () => {
  test.each(passwords)("%p valid=%p", (value, valid) => {
    expect(passwordProblem(value) === null).toBe(valid);
  });
  test("the message says what is missing", () => {
    expect(passwordProblem("abcdefg!")).toContain("digit");
    expect(passwordProblem("abcdefg1")).toContain("~!@#$%^&*<>?");
  });
});

describe("workspace/training/dataset name rule", () => {
  test.each(names)("%p valid=%p", (value, valid) => {
    expect(nameProblem(value) === null).toBe(valid);
  });
});

export { passwords, userIds };
