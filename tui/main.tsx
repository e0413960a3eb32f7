// `bun run tui`: the terminal dashboard on the master console.
// HANGAR_URL (default http://127.0.0.1:56789) and HANGAR_TOKEN, or HANGAR_USER + HANGAR_PASSWORD.
import { render } from "ink";
import { ApiClient } from "./client";
import { Dashboard } from "./Dashboard";

const url = process.env.HANGAR_URL ?? `http://127.0.0.1:${process.env.HANGAR_PORT ?? 56789}`;
const client = new ApiClient(url, process.env.HANGAR_TOKEN ?? null);
if (!process.env.HANGAR_TOKEN) {
  const user = process.env.HANGAR_USER;
  const password = process.env.HANGAR_PASSWORD;
  if (!user || !password) {
    console.error("set HANGAR_TOKEN (an API key's secret or a session token), or HANGAR_USER and HANGAR_PASSWORD");
    process.exit(2);
  }
  await client.login(user, password);
}
render(<Dashboard client={client} />);
