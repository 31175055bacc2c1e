/**
 * Who may change a job: its caller. Reads of the ledger are shared by every server process on one
 * machine (one user's state folder), but cancelling is the owner's. A stdio caller is its process
 * (`stdio:<pid>`); when that process is gone, its jobs are orphaned and any local caller may cancel them.
 * `mediagen-mcp ui` (`ui:<pid>`) is the person at the desk: it may cancel any job of its principal (the
 * ledger read before this check already kept other principals' jobs out).
 */
export function ownerGone(callerId: string): boolean {
  const m = /^stdio:(\d+)$/.exec(callerId);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function mayChange(jobCallerId: string, callerId: string): boolean {
  return jobCallerId === callerId || deskCaller(callerId) || ownerGone(jobCallerId);
}

/** `mediagen-mcp ui`'s caller: the person at the desk, with no model session of its own. */
export function deskCaller(callerId: string): boolean {
  return /^ui:\d+$/.test(callerId);
}
