/**
 * Settles with the promise, or rejects with the signal's reason as soon as the
 * signal aborts. The promise itself is not stopped: callers make sure it ends by
 * itself soon after (a watch whose judge also looks at the signal, for one).
 */
export function untilAborted<T>(signal: AbortSignal, promise: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(asError(signal.reason));

  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(asError(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(asError(error));
      },
    );
  });
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
