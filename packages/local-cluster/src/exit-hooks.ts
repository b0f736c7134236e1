/**
 * Last-resort cleanup when the parent (npm start, vitest) goes away without calling
 * stop(): child processes are killed synchronously and temp dirs removed, so no etcd or
 * apiserver survives a Ctrl-C of the parent.
 */
type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
const forwardedSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function runCleanups(): void {
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // Best effort while the process is exiting: one failed cleanup must not skip the rest.
    }
  }
  cleanups.clear();
}

/**
 * When nobody else handles the signal, Node's default action would kill the parent
 * without running 'exit' handlers, so clean up and re-raise it. When the host installed
 * its own handler (vitest does), leave shutdown to it: it will call stop() or exit, and
 * the 'exit' hook still backs it up.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) {
    return;
  }

  runCleanups();
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) {
    return;
  }

  installed = true;
  process.once('exit', runCleanups);
  for (const signal of forwardedSignals) {
    process.on(signal, onSignal);
  }
}

/** Registers a synchronous cleanup; the returned function unregisters it. */
export function onParentExit(cleanup: Cleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
