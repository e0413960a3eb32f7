import { describe, expect, test } from "bun:test";
import { nameProblem, passwordProblem, userIdProblem } from "../../src/domain/rules";
import { passwords, userIds } from "../helpers/tables";

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
