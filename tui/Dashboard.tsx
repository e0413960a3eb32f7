import { Box, Text, useApp, useInput } from "ink";
import { useCallback, useEffect, useReducer } from "react";
import type { ApiClient } from "./client";
import { initialState, KEYS, reduce, type Snapshot } from "./state";

async function load(client: ApiClient): Promise<Snapshot> {
  const [health, me] = await Promise.all([client.health(), client.me()]);
  const admin = me.role === "admin";
  const [users, logs] = admin ? await Promise.all([client.users(10), client.accessLogDays()]) : [null, null];
  return { health, me, users, logDays: logs?.items ?? null };
}

export function Dashboard({ client, refreshMs = 5000 }: { client: ApiClient; refreshMs?: number }) {
  const [state, dispatch] = useReducer(reduce, initialState);
  const { exit } = useApp();
  const refresh = useCallback(() => {
    dispatch({ type: "refresh" });
    load(client).then(
      (data) => dispatch({ type: "loaded", data, at: new Date() }),
      (err: Error) => dispatch({ type: "failed", error: err.message }),
    );
  }, [client]);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, refreshMs);
    return () => clearInterval(timer);
  }, [refresh, refreshMs]);

  useInput((input) => {
    if (input === "q") exit();
    if (input === "r") refresh();
  });

  const d = state.data;
  return (
    <Box flexDirection="column" paddingX={1}>
      <Box justifyContent="space-between">
        <Text bold color="cyan">
          Hangar {d ? `v${d.health.version}` : ""}
        </Text>
        <Text dimColor>
          {state.loading ? "refreshing…" : `updated ${state.refreshedAt?.toISOString().slice(11, 19) ?? "-"}`}
        </Text>
      </Box>
      {state.error && <Text color="red">error: {state.error}</Text>}
      {d && (
        <>
          <Text>
            master: <Text color={d.health.status === "ok" ? "green" : "red"}>{d.health.status}</Text> · logged in as{" "}
            {d.me.userId} ({d.me.role})
          </Text>
          {d.users && (
            <Box flexDirection="column" marginTop={1}>
              <Text bold>Users ({d.users.total})</Text>
              {d.users.items.map((u) => (
                <Text key={u.userId}>
                  {u.userId.padEnd(21)}
                  {u.role.padEnd(9)}
                  {u.active ? "active" : <Text color="yellow">deactivated</Text>}
                </Text>
              ))}
            </Box>
          )}
          {d.logDays && (
            <Text>
              access logs: {d.logDays.length} day(s){d.logDays[0] ? `, latest ${d.logDays[0].day}` : ""}
            </Text>
          )}
        </>
      )}
      <Box marginTop={1}>
        <Text dimColor>{KEYS.map((k) => `${k.key} ${k.label}`).join(" · ")}</Text>
      </Box>
    </Box>
  );
}
