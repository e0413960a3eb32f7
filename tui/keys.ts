// The one key-binding table: input handling (commandFor) and the help screen (helpFor) both read
// it, so a key cannot work without being listed nor be listed without working.

export const VIEWS = ["overview", "nodes", "queue", "jobs", "log", "workspaces", "users"] as const;
export type ViewId = (typeof VIEWS)[number];

export const VIEW_TITLES: Record<ViewId, string> = {
  overview: "Overview",
  nodes: "Nodes",
  queue: "Queue",
  jobs: "Jobs",
  log: "Log",
  workspaces: "Workspaces",
  users: "Users",
};

/** What the keyboard is doing: browsing, typing a filter, answering a confirmation, reading the help. */
export type Mode = "normal" | "filter" | "confirm" | "help";

export type Command =
  | "up"
  | "down"
  | "pageUp"
  | "pageDown"
  | "top"
  | "bottom"
  | "open"
  | "back"
  | "filter"
  | "refresh"
  | "quit"
  | "help"
  | "nextView"
  | "prevView"
  | `view:${ViewId}`
  | "connect"
  | "disconnect"
  | "probe"
  | "cancelJob"
  | "followLog"
  | "toggleActive"
  | "yes"
  | "no"
  | "filterDone"
  | "filterClear";

/** The parts of Ink's Key the table looks at. */
export interface KeyPress {
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  ctrl?: boolean;
}

type Special = "upArrow" | "downArrow" | "pageUp" | "pageDown" | "home" | "end" | "return" | "escape" | "tab";

/** One key: a character, or a special key (with shift for shift-tab). */
export interface KeySpec {
  char?: string;
  special?: Special;
  shift?: boolean;
  /** How the help shows it. */
  label: string;
}

export interface Binding {
  command: Command;
  keys: KeySpec[];
  help: string;
  /** The footer's word for a view's own action. */
  short?: string;
  /** Where it applies (default: every view). */
  views?: readonly ViewId[];
  /** In which mode (default normal). */
  mode?: Mode;
}

const ch = (char: string, label = char): KeySpec => ({ char, label });
const sp = (special: Special, label: string, shift?: boolean): KeySpec => ({ special, label, shift });

export const BINDINGS: readonly Binding[] = [
  { command: "up", keys: [sp("upArrow", "↑"), ch("k")], help: "up (Log: scroll up)" },
  { command: "down", keys: [sp("downArrow", "↓"), ch("j")], help: "down (Log: scroll down)" },
  { command: "pageUp", keys: [sp("pageUp", "PgUp"), ch("K")], help: "a page up" },
  { command: "pageDown", keys: [sp("pageDown", "PgDn"), ch("J")], help: "a page down" },
  { command: "top", keys: [sp("home", "Home"), ch("g")], help: "first row" },
  { command: "bottom", keys: [sp("end", "End"), ch("G")], help: "last row (Log: follow)" },
  { command: "open", keys: [sp("return", "Enter")], help: "open the detail pane" },
  { command: "back", keys: [sp("escape", "Esc")], help: "close pane / drop filter" },
  { command: "filter", keys: [ch("/")], help: "filter the rows" },
  { command: "refresh", keys: [ch("r")], help: "refresh now" },
  { command: "help", keys: [ch("?")], help: "this help" },
  { command: "quit", keys: [ch("q")], help: "quit" },
  { command: "nextView", keys: [sp("tab", "Tab")], help: "next view" },
  { command: "prevView", keys: [sp("tab", "S-Tab", true)], help: "previous view" },
  { command: "view:overview", keys: [ch("1")], help: "Overview" },
  { command: "view:nodes", keys: [ch("2")], help: "Nodes" },
  { command: "view:queue", keys: [ch("3")], help: "Queue (scheduler order)" },
  { command: "view:jobs", keys: [ch("4")], help: "Jobs across workspaces" },
  { command: "view:log", keys: [ch("5")], help: "Log of the followed job" },
  { command: "view:workspaces", keys: [ch("6")], help: "Workspaces" },
  { command: "view:users", keys: [ch("7")], help: "Users" },
  { command: "connect", short: "connect", keys: [ch("c")], help: "connect the node", views: ["nodes", "overview"] },
  {
    command: "disconnect",
    short: "disconnect",
    keys: [ch("d")],
    help: "disconnect node (asks)",
    views: ["nodes", "overview"],
  },
  { command: "probe", short: "probe", keys: [ch("p")], help: "probe the node now", views: ["nodes", "overview"] },
  {
    command: "cancelJob",
    short: "cancel",
    keys: [ch("x")],
    help: "cancel the job (asks)",
    views: ["jobs", "queue", "log"],
  },
  { command: "followLog", short: "log", keys: [ch("l")], help: "follow the job's log", views: ["jobs", "queue"] },
  {
    command: "toggleActive",
    short: "(de)activate",
    keys: [ch("a")],
    help: "(de)activate user (asks)",
    views: ["users"],
  },
  { command: "yes", keys: [ch("y")], help: "yes, do it", mode: "confirm" },
  { command: "no", keys: [ch("n"), sp("escape", "Esc")], help: "no", mode: "confirm" },
  { command: "filterDone", keys: [sp("return", "Enter")], help: "keep the filter", mode: "filter" },
  { command: "filterClear", keys: [sp("escape", "Esc")], help: "drop the filter", mode: "filter" },
];

function matches(spec: KeySpec, input: string, key: KeyPress): boolean {
  if (spec.special) return Boolean(key[spec.special]) && Boolean(spec.shift) === Boolean(key.shift);
  return !key.ctrl && input === spec.char;
}

/** The command a key press means in this view and mode, or null. */
export function commandFor(input: string, key: KeyPress, view: ViewId, mode: Mode = "normal"): Command | null {
  for (const b of BINDINGS) {
    if ((b.mode ?? "normal") !== mode) continue;
    if (b.views && !b.views.includes(view)) continue;
    if (b.keys.some((k) => matches(k, input, key))) return b.command;
  }
  return null;
}

/** The help's lines for a view: keys and what they do, the view's own actions included. */
export function helpFor(view: ViewId, mode: Mode = "normal"): { keys: string; help: string }[] {
  return BINDINGS.filter((b) => (b.mode ?? "normal") === mode && (!b.views || b.views.includes(view))).map((b) => ({
    keys: b.keys.map((k) => k.label).join(" "),
    help: b.help,
  }));
}

/** The short hint for the footer: the view's own actions first. */
export function hintFor(view: ViewId): string {
  const own = BINDINGS.filter((b) => b.views?.includes(view)).map((b) => `${b.keys[0]?.label} ${b.short ?? b.command}`);
  return [...own, "? help", "q quit"].join("  ");
}
