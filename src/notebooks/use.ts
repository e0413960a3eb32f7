// When each notebook was last used through the proxy (HTTP requests and WebSocket messages
// either way), for the idle timeout. Kept in memory: after a restart the idle check counts from
// the master's start.

export class NotebookUse {
  private readonly last = new Map<string, number>();

  /** Records a use of the notebook job at `at` (epoch ms). */
  used(jobId: string, at: number): void {
    this.last.set(jobId, at);
  }

  /** Epoch ms of the last use seen since the master started, or undefined. */
  lastUse(jobId: string): number | undefined {
    return this.last.get(jobId);
  }
}
