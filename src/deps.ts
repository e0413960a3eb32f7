// What services get: the store, the clock, settings, a logger and the process-wide counters.

import type { AccessLog } from "./accesslog/writer";
import { PrincipalCache } from "./auth/cache";
import { FailureWindow, RateLimiter } from "./auth/limits";
import type { Config } from "./config";
import type { Clock } from "./lib/clock";
import type { Logger } from "./lib/logger";
import { ReadCache } from "./lib/readCache";
import type { Store } from "./store/store";

export interface Deps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  accessLog: AccessLog;
  loginFailures: FailureWindow;
  apiKeyLimiter: RateLimiter;
  principals: PrincipalCache;
  /** Serialized pages of the users list (GET /api/users), valid until the next write. */
  userPages: ReadCache<Uint8Array<ArrayBuffer>>;
}

export function createDeps(base: Omit<Deps, "loginFailures" | "apiKeyLimiter" | "principals" | "userPages">): Deps {
  return {
    ...base,
    loginFailures: new FailureWindow(base.config.loginMaxFailures),
    apiKeyLimiter: new RateLimiter(base.config.apiKeyRateLimit),
    principals: new PrincipalCache(),
    userPages: new ReadCache(base.store.generation),
  };
}
