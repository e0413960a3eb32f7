import { type FormEvent, useState } from "react";
import { ok } from "../../../src/client/api";
import { api } from "../session";
import { ErrorText, Input, useAction } from "../ui";

type LoginResult = Awaited<ReturnType<typeof loginCall>>;
const loginCall = (body: { userId: string; password: string; otp?: string }) => ok(api.api.auth.login.post(body));

export function Login(props: { onLogin: (token: string, user: LoginResult["user"]) => Promise<void> }) {
  const [userId, setUserId] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState("");
  const { busy, run, fieldError, otherError } = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const res = await run(() => loginCall({ userId, password, ...(otp ? { otp } : {}) }));
    if (res) await props.onLogin(res.token, res.user);
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <div className="brand big">Hangar</div>
        <h1 id="login-title">Log in</h1>
        <Input
          label="User ID"
          name="userId"
          autoComplete="username"
          required
          value={userId}
          onChange={(e) => setUserId(e.target.value)}
        />
        <Input
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <Input
          label="Two-factor code"
          name="otp"
          inputMode="numeric"
          autoComplete="one-time-code"
          optional
          hint="Only if you turned on two-factor login: the 6 digits from your app."
          value={otp}
          onChange={(e) => setOtp(e.target.value)}
          error={fieldError("otp")}
        />
        <ErrorText>{otherError("otp")}</ErrorText>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
