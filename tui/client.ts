// The typed API client the dashboard uses (the same REST API as the web UI and scripts).
export interface Health {
  status: string;
  version: string;
}
export interface User {
  userId: string;
  role: string;
  active: boolean;
  mustChangePassword: boolean;
  totpEnabled: boolean;
  createdAt: string;
}
export interface Page<T> {
  items: T[];
  total: number;
}

export type Fetch = (input: Request) => Promise<Response>;

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private token: string | null = null,
    private readonly fetcher: Fetch = (r) => fetch(r),
  ) {}

  async login(userId: string, password: string): Promise<void> {
    const res = await this.call<{ token: string }>("POST", "/api/auth/login", { userId, password });
    this.token = res.token;
  }
  health = () => this.call<Health>("GET", "/api/health");
  me = () => this.call<User>("GET", "/api/me");
  users = (limit = 50) => this.call<Page<User>>("GET", `/api/users?limit=${limit}`);
  accessLogDays = () => this.call<Page<{ day: string; bytes: number }>>("GET", "/api/access-logs");

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await this.fetcher(
      new Request(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${path}: ${data?.error?.message ?? res.status}`);
    return data as T;
  }
}
