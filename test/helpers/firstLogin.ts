// The first login of a test account (helpers/testMaster, helpers/processes).
/**
 * A first login must change the password before anything else works (as root's and every
 * admin-made account's does). Test logins do it through the real route, twice, so the password
 * the test knows stays the same: to a temporary one and back.
 */
export async function clearMustChange(
  json: (
    method: string,
    path: string,
    options: { token: string; body: unknown },
  ) => Promise<{ status: number; body: any }>,
  token: string,
  password: string,
): Promise<void> {
  const temporary = password === "tmpPass9!x" ? "tmpPass9!y" : "tmpPass9!x";
  for (const [current, next] of [
    [password, temporary],
    [temporary, password],
  ]) {
    const res = await json("POST", "/api/me/password", { token, body: { current, next } });
    if (res.status !== 204) throw new Error(`changing the first password: ${res.status} ${JSON.stringify(res.body)}`);
  }
}
