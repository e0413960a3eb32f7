// Which gateway port each running job has: the SSH gateway registers them as it opens and closes
// ports, the job and training views read them.

export class SshPorts {
  private readonly ports = new Map<string, number>();

  /** The job's SSH port, or null when it has none. */
  of(jobId: string): number | null {
    return this.ports.get(jobId) ?? null;
  }

  set(jobId: string, port: number): void {
    this.ports.set(jobId, port);
  }

  delete(jobId: string): void {
    this.ports.delete(jobId);
  }
}
