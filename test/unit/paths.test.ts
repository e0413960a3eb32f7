import { describe, expect, test } from "bun:test";
import { joinRelative, relativePathProblem } from "../../src/domain/paths";
import { forbiddenPaths } from "../helpers/tables";

describe("dataset path rules", () => {
  test.each(forbiddenPaths)("%p (%s) is refused", (path) => {
    expect(relativePathProblem(path)).not.toBeNull();
  });
  test.each(["train.csv", "images/cat/001.jpg", "a-b_c.d~e", "x".repeat(255), ".hidden", "a/b/c/d/e/f.txt"])(
    "%p is allowed",
    (path) => {
      expect(relativePathProblem(path)).toBeNull();
    },
  );
  test("joins a folder prefix", () => {
    expect(joinRelative("raw/", "a.csv")).toBe("raw/a.csv");
    expect(joinRelative(undefined, "a.csv")).toBe("a.csv");
    expect(joinRelative("/raw", "a.csv")).toBe("raw/a.csv");
  });
});
