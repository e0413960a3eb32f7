import { type ReactNode, useCallback, useEffect, useMemo, useState } from "react";
import { ok } from "../../src/client/api";
import { type Session, SessionContext, type User, useSession, type WorkspaceSummary } from "./context";
import { roleLabel } from "./format";
import { Account } from "./pages/Account";
import { Dashboard } from "./pages/Dashboard";
import { AllDatasets, DatasetDetail, Datasets } from "./pages/Datasets";
import { Deployments } from "./pages/Deployments";
import { Images } from "./pages/Images";
import { JobLog } from "./pages/JobLog";
import { Login } from "./pages/Login";
import { Nodes } from "./pages/Nodes";
import { TrainingDetail } from "./pages/TrainingDetail";
import { Trainings } from "./pages/Trainings";
import { Users } from "./pages/Users";
import { WorkspaceHome } from "./pages/WorkspaceHome";
import { Workspaces } from "./pages/Workspaces";
import { Link, match, navigate, path, Redirect, usePath } from "./router";
import { api, currentToken, rememberedWorkspace, rememberWorkspace, setToken } from "./session";

export function App() {
  const [me, setMe] = useState<User | null>(null);
  const [checking, setChecking] = useState(Boolean(currentToken()));
  const here = usePath();

  const refreshMe = useCallback(async () => {
    try {
      setMe(await ok(api.api.me.get()));
    } catch {
      setToken(null);
      setMe(null);
    } finally {
      setChecking(false);
    }
  }, []);
  useEffect(() => {
    if (currentToken()) void refreshMe();
  }, [refreshMe]);

  if (checking) return <p className="loading">Loading…</p>;
  if (!me) {
    return (
      <Login
        onLogin={async (token, user) => {
          setToken(token);
          setMe(user as User);
          await refreshMe();
          if (here === "/login") navigate("/", true);
        }}
      />
    );
  }
  return (
    <LoggedIn
      me={me}
      refreshMe={refreshMe}
      onLogout={async () => {
        await api.api.auth.logout.post().catch(() => {});
        setToken(null);
        setMe(null);
        navigate("/login");
      }}
    />
  );
}

function LoggedIn(props: { me: User; refreshMe: () => Promise<void>; onLogout: () => Promise<void> }) {
  const { me } = props;
  const here = usePath();
  const [workspaces, setWorkspaces] = useState<WorkspaceSummary[]>([]);
  const [tick, setTick] = useState(0);
  const [chosen, setChosen] = useState<string | null>(rememberedWorkspace());
  // Not before the first password is changed (the API answers 403 until then); loaded after it.
  const mustChange = me.mustChangePassword;
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick reloads
  useEffect(() => {
    if (mustChange) return;
    ok(api.api.workspaces.get({ query: { limit: "500" } }))
      .then((r) => setWorkspaces(r.items))
      .catch(() => {});
  }, [tick, mustChange]);
  // The workspace in the URL wins; else the remembered one if still visible; else the first.
  const inUrl = /^\/workspaces\/([^/]+)/.exec(here)?.[1];
  const fromUrl = inUrl ? decodeURIComponent(inUrl) : null;
  const workspace =
    fromUrl ??
    (chosen && workspaces.some((w) => w.name === chosen)
      ? chosen
      : (workspaces.find((w) => w.status === "active")?.name ?? workspaces[0]?.name ?? null));
  useEffect(() => {
    if (fromUrl && fromUrl !== chosen) {
      setChosen(fromUrl);
      rememberWorkspace(fromUrl);
    }
  }, [fromUrl, chosen]);

  const session: Session = useMemo(
    () => ({
      me,
      isAdmin: me.role === "admin",
      workspaces,
      workspace,
      setWorkspace: (ws: string) => {
        setChosen(ws);
        rememberWorkspace(ws);
      },
      reloadWorkspaces: () => setTick((t) => t + 1),
      logout: props.onLogout,
      refreshMe: props.refreshMe,
    }),
    [me, workspaces, workspace, props.onLogout, props.refreshMe],
  );

  if (me.mustChangePassword && here !== "/account") return <Redirect to="/account" />;
  return (
    <SessionContext.Provider value={session}>
      <Shell>{route(here, session)}</Shell>
    </SessionContext.Provider>
  );
}

type Params = { ws: string; tr: string; id: string; ds: string };

/** Pages under /workspaces/:ws, by URL pattern. */
const WORKSPACE_PAGES: [string, (p: Params) => ReactNode][] = [
  ["/workspaces/:ws", (p) => <WorkspaceHome ws={p.ws} />],
  ["/workspaces/:ws/trainings", (p) => <Trainings ws={p.ws} />],
  ["/workspaces/:ws/trainings/:tr", (p) => <TrainingDetail ws={p.ws} tr={p.tr} />],
  ["/workspaces/:ws/trainings/:tr/jobs/:id", (p) => <JobLog ws={p.ws} tr={p.tr} id={p.id} />],
  ["/workspaces/:ws/datasets", (p) => <Datasets ws={p.ws} />],
  ["/workspaces/:ws/datasets/:ds", (p) => <DatasetDetail ws={p.ws} ds={p.ds} />],
  ["/workspaces/:ws/deployments", (p) => <Deployments ws={p.ws} />],
];

/** The page for a path. Workspace pages take the workspace from the URL. */
function route(here: string, s: Session): ReactNode {
  const ws = s.workspace;
  const inWs = (page: string) => (ws ? <Redirect to={path("workspaces", ws, page)} /> : <NoWorkspace />);
  if (here === "/" || here === "/login")
    return s.isAdmin ? <Dashboard /> : ws ? <WorkspaceHome ws={ws} /> : <NoWorkspace />;
  if (here === "/nodes") return s.isAdmin ? <Nodes /> : <NotAllowed />;
  if (here === "/users") return s.isAdmin ? <Users /> : <NotAllowed />;
  if (here === "/workspaces") return <Workspaces />;
  if (here === "/docker-images") return <Images />;
  if (here === "/account") return <Account />;
  if (here === "/trainings") return inWs("trainings");
  if (here === "/datasets") return s.isAdmin ? <AllDatasets /> : inWs("datasets");
  if (here === "/deployments") return inWs("deployments");
  for (const [pattern, page] of WORKSPACE_PAGES) {
    const p = match(pattern, here);
    if (p) return page(p as Params);
  }
  return (
    <section className="empty-page">
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{here}</code>. <Link href="/">Go to the start page</Link>.
      </p>
    </section>
  );
}

function NoWorkspace() {
  const { isAdmin } = useSession();
  return (
    <section className="empty-page">
      <h1>No workspace yet</h1>
      <p>
        {isAdmin ? (
          <>
            Create one on the <Link href="/workspaces">Workspaces</Link> page.
          </>
        ) : (
          "You are not a member of any workspace. Ask an administrator to add you to one."
        )}
      </p>
    </section>
  );
}

function NotAllowed() {
  return (
    <section className="empty-page">
      <h1>Administrators only</h1>
      <p>This page is for administrators.</p>
    </section>
  );
}

interface MenuItem {
  label: string;
  href: string;
  active: (p: string) => boolean;
  admin?: boolean;
}

function menu(ws: string | null, isAdmin = false): MenuItem[] {
  const wsPath = (page: string) => (ws ? path("workspaces", ws, page) : `/${page}`);
  return [
    { label: "Dashboard", href: "/", active: (p) => p === "/" || (ws !== null && p === path("workspaces", ws)) },
    { label: "Workspaces", href: "/workspaces", active: (p) => p === "/workspaces" },
    { label: "Trainings", href: wsPath("trainings"), active: (p) => /^\/(workspaces\/[^/]+\/)?trainings/.test(p) },
    {
      label: "Deployments",
      href: wsPath("deployments"),
      active: (p) => /^\/(workspaces\/[^/]+\/)?deployments/.test(p),
    },
    { label: "Docker Images", href: "/docker-images", active: (p) => p === "/docker-images" },
    // Admins see every workspace's datasets at /datasets.
    {
      label: "Datasets",
      href: isAdmin ? "/datasets" : wsPath("datasets"),
      active: (p) => /^\/(workspaces\/[^/]+\/)?datasets/.test(p),
    },
    { label: "Nodes", href: "/nodes", active: (p) => p === "/nodes", admin: true },
    { label: "Users", href: "/users", active: (p) => p === "/users", admin: true },
  ];
}

function Shell({ children }: { children: ReactNode }) {
  const s = useSession();
  const here = usePath();
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">Hangar</div>
        <nav aria-label="Main menu">
          <ul>
            {menu(s.workspace, s.isAdmin)
              .filter((i) => !i.admin || s.isAdmin)
              .map((i) => (
                <li key={i.label}>
                  <Link href={i.href} aria-current={i.active(here) ? "page" : undefined}>
                    {i.label}
                  </Link>
                </li>
              ))}
          </ul>
        </nav>
      </aside>
      <div className="main">
        <header className="topbar">
          <WorkspaceSwitcher />
          <span className="spacer" />
          <span className="who" title="Logged in as">
            {s.me.userId} ({roleLabel(s.me.role)})
          </span>
          <Link href="/account" aria-current={here === "/account" ? "page" : undefined}>
            Account
          </Link>
          <button type="button" onClick={() => void s.logout()}>
            Log out
          </button>
        </header>
        <main>{children}</main>
      </div>
    </div>
  );
}

function WorkspaceSwitcher() {
  const s = useSession();
  const here = usePath();
  if (s.workspaces.length === 0) return <span className="muted">No workspace</span>;
  return (
    <div className="switcher">
      <label htmlFor="ws-switch">Workspace</label>
      <select
        id="ws-switch"
        value={s.workspace ?? ""}
        onChange={(e) => {
          const next = e.target.value;
          s.setWorkspace(next);
          // Stay on the same kind of page in the other workspace.
          const rest = /^\/workspaces\/[^/]+(\/(trainings|datasets|deployments))?/.exec(here);
          if (rest) navigate(path("workspaces", next) + (rest[1] ?? ""));
        }}
      >
        {s.workspaces.map((w) => (
          <option key={w.name} value={w.name}>
            {w.name}
            {w.status !== "active" ? ` (${w.status})` : ""}
          </option>
        ))}
      </select>
    </div>
  );
}
