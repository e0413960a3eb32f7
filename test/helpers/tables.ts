// Tables of valid and invalid inputs shared by unit and API tests (docs/product.md: accounts, datasets).

// Accounts: user ID 3–20 chars of [a-z0-9-], no "--", no hyphen first or last.
export const userIds: [string, boolean][] = [
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
export const passwords: [string, boolean][] = [
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

// Datasets: no non-ASCII, no spaces, none of * ? : < > " | \ ₩; no traversal.
export const forbiddenPaths: [string, string][] = [
  ["데이터.csv", "Korean"],
  ["my file.txt", "space"],
  ["a*.txt", "*"],
  ["a?.txt", "?"],
  ["a:b.txt", ":"],
  ["a<b.txt", "<"],
  ["a>b.txt", ">"],
  ['a"b.txt', '"'],
  ["a|b.txt", "|"],
  ["a\\b.txt", "backslash"],
  ["₩100.txt", "won sign"],
  ["../x", "parent"],
  ["/etc/passwd", "absolute"],
  ["a/../../b", "traversal in the middle"],
  ["a\0b", "NUL"],
  ["a/./b", "dot segment"],
  ["a//b", "empty segment"],
  ["tab\there", "tab"],
];
