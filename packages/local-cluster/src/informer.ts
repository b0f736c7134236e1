import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';

/**
 * List-then-watch with a local cache (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes):
 * watch from the list's resourceVersion, resume from the last seen one when the server
 * (or the client's idle timeout) ends the stream, and list again after 410 Gone.
 */
export interface ListedResource<T extends KubernetesObject> {
  /** For log lines, e.g. "pods". */
  kind: string;
  /** Collection path to watch, e.g. /api/v1/pods. */
  path: string;
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
}

export type ChangeListener<T> = (change: 'upsert' | 'delete', object: T) => void;

export interface Informer<T extends KubernetesObject> {
  get(key: string): T | undefined;
  items(): T[];
  onChange(listener: ChangeListener<T>): void;
  /** Resolves after the first list has been delivered. */
  readonly synced: Promise<void>;
  stop(): void;
}

interface WatchOutcome {
  resourceVersion: string;
  gone: boolean;
  error: unknown;
}

interface StatusObject {
  code?: number;
  message?: string;
}

const RETRY_DELAY_MS = 1000;

export function objectKey(object: KubernetesObject): string {
  const { namespace, name } = object.metadata ?? {};
  return namespace === undefined ? (name ?? '') : `${namespace}/${name ?? ''}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** client-node aborts a watch after 30 s without data; resuming it is routine, not a failure. */
function isIdleTimeout(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'TimeoutError';
}

/** 410 usually arrives as an ERROR event, but a refused watch request can carry it too. */
function isGoneResponse(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && 'statusCode' in error && error.statusCode === 410
  );
}

type EventSink<T> = (type: string, object: T) => void;

interface WatchRequest<T> {
  watch: Watch;
  path: string;
  resourceVersion: string;
  onObject: EventSink<T>;
  /** Receives the running request so stop() can abort it. */
  onStarted: (controller: AbortController) => void;
  log: Logger;
}

/** One watch request, from a resourceVersion until the stream ends; tracks the last version seen. */
function watchOnce<T extends KubernetesObject>(request: WatchRequest<T>): Promise<WatchOutcome> {
  return new Promise((resolve) => {
    const outcome: WatchOutcome = {
      resourceVersion: request.resourceVersion,
      gone: false,
      error: undefined,
    };
    const onEvent = (type: string, object: unknown): void => {
      if (type === 'ERROR') {
        outcome.gone = (object as StatusObject).code === 410;
        request.log.debug({ status: object }, 'watch error event');
        return;
      }

      const typed = object as T;
      outcome.resourceVersion = typed.metadata?.resourceVersion ?? outcome.resourceVersion;
      request.onObject(type, typed);
    };
    const onDone = (error: unknown): void => {
      outcome.error = error;
      outcome.gone ||= isGoneResponse(error);
      resolve(outcome);
    };
    const query = { resourceVersion: request.resourceVersion, allowWatchBookmarks: true };

    request.watch.watch(request.path, query, onEvent, onDone).then(request.onStarted).catch(onDone);
  });
}

export function startInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  resource: ListedResource<T>,
  logger: Logger,
): Informer<T> {
  const cache = new Map<string, T>();
  const listeners: ChangeListener<T>[] = [];
  const watch = new Watch(kubeConfig);
  const log = logger.child({ resource: resource.kind });
  let stopped = false;
  // Read through a function: the flag flips in stop() while loops await, which
  // control-flow narrowing cannot see.
  const isStopped = (): boolean => stopped;
  let current: AbortController | undefined;
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => {
    markSynced = resolve;
  });

  const emit = (change: 'upsert' | 'delete', object: T): void => {
    for (const listener of listeners) {
      try {
        listener(change, object);
      } catch (error) {
        log.error({ err: error }, 'change listener failed');
      }
    }
  };

  /** After a list, objects missing from it were deleted while nobody watched. */
  const replaceAll = (items: T[]): void => {
    const fresh = new Map(items.map((item) => [objectKey(item), item]));
    for (const [key, object] of cache) {
      if (!fresh.has(key)) {
        cache.delete(key);
        emit('delete', object);
      }
    }
    for (const [key, object] of fresh) {
      cache.set(key, object);
      emit('upsert', object);
    }
  };

  const apply: EventSink<T> = (type, object) => {
    const key = objectKey(object);
    if (type === 'DELETED') {
      cache.delete(key);
      emit('delete', object);
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      cache.set(key, object);
      emit('upsert', object);
    }
  };

  const onStarted = (controller: AbortController): void => {
    current = controller;
    if (isStopped()) {
      controller.abort();
    }
  };

  const watchUntilGone = async (startVersion: string): Promise<void> => {
    let resourceVersion = startVersion;
    while (!isStopped()) {
      const request = {
        watch,
        path: resource.path,
        resourceVersion,
        onObject: apply,
        onStarted,
        log,
      };
      const outcome = await watchOnce(request);
      resourceVersion = outcome.resourceVersion;
      if (outcome.gone) {
        log.debug('resourceVersion too old, listing again');
        return;
      }
      const failed = outcome.error !== null && outcome.error !== undefined;
      if (failed && !isIdleTimeout(outcome.error) && !isStopped()) {
        log.warn({ err: outcome.error }, 'watch failed, retrying');
        await sleep(RETRY_DELAY_MS);
      }
    }
  };

  const run = async (): Promise<void> => {
    while (!isStopped()) {
      try {
        const list = await resource.list();
        replaceAll(list.items);
        markSynced();
        await watchUntilGone(list.metadata?.resourceVersion ?? '0');
      } catch (error) {
        if (!isStopped()) {
          log.warn({ err: error }, 'list failed, retrying');
          await sleep(RETRY_DELAY_MS);
        }
      }
    }
  };

  void run();

  return {
    get: (key) => cache.get(key),
    items: () => [...cache.values()],
    onChange: (listener) => {
      listeners.push(listener);
    },
    synced,
    stop: () => {
      stopped = true;
      current?.abort();
    },
  };
}
