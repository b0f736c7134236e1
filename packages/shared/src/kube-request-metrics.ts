import type { KubeConfig, RequestContext } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { Counter, Histogram } from 'prom-client';
import { getGlobalDispatcher, type Dispatcher } from 'undici';

import { kubeRequestLabels, type KubeRequestLabels } from './kube-request-labels.ts';

/** One finished Kubernetes API request, as the metrics see it. */
export interface KubeRequestSample extends KubeRequestLabels {
  /** The HTTP status, or "error" when no answer came (connection refused, reset, aborted). */
  code: string;
  seconds: number;
}

export type KubeRequestObserver = (sample: KubeRequestSample) => void;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Counter and latency histogram of Kubernetes API requests, in that registry. */
export function kubeRequestMetrics(registry: Registry): KubeRequestObserver {
  const requests = new Counter({
    name: 'aso_kubernetes_requests_total',
    help: 'Kubernetes API requests by verb, resource and HTTP status code ("error": no answer)',
    labelNames: ['verb', 'resource', 'code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'aso_kubernetes_request_duration_seconds',
    help: 'Kubernetes API request latency: to the whole answer, or to its headers for a watch',
    labelNames: ['verb', 'resource'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  return function observeKubeRequest({ verb, resource, code, seconds }) {
    requests.inc({ verb, resource, code });
    latency.observe({ verb, resource }, seconds);
  };
}

/**
 * Measures every request made through this KubeConfig: the generated API clients
 * and Watch both ask it for credentials and an undici dispatcher before each call,
 * so wrapping that one step sees them all, including clients created earlier.
 */
export function instrumentKubeConfig(kubeConfig: KubeConfig, observe: KubeRequestObserver): void {
  const authenticate = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  const interceptor = measuringInterceptor(observe);

  kubeConfig.applySecurityAuthentication = async function measuredAuthentication(
    context: RequestContext,
  ) {
    await authenticate(context);
    // Without TLS settings client-node leaves the dispatcher unset and fetch uses the global one.
    const dispatcher = context.getDispatcher() ?? getGlobalDispatcher();
    context.setDispatcher(dispatcher.compose(interceptor));
  };
}

function measuringInterceptor(
  observe: KubeRequestObserver,
): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) =>
    function measuredDispatch(options, handler) {
      // Only the path is read; the base merely makes it a URL.
      const url = new URL(options.path, options.origin ?? 'http://localhost');
      const labels = kubeRequestLabels(options.method, url);
      return dispatch(options, new MeasuringHandler(handler, labels, observe));
    };
}

/**
 * Passes every callback through to fetch's handler and notes the outcome once: at the
 * end of the answer, or at its headers for a watch, whose answer streams for minutes.
 */
class MeasuringHandler implements Dispatcher.DispatchHandler {
  private readonly inner: Dispatcher.DispatchHandler;
  private readonly labels: KubeRequestLabels;
  private readonly observe: KubeRequestObserver;
  private readonly startedAt = performance.now();
  private status: number | null = null;
  private noted = false;

  constructor(
    inner: Dispatcher.DispatchHandler,
    labels: KubeRequestLabels,
    observe: KubeRequestObserver,
  ) {
    this.inner = inner;
    this.labels = labels;
    this.observe = observe;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    ...args: Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestUpgrade']>>
  ): void {
    this.inner.onRequestUpgrade?.(...args);
  }

  onResponseStarted(): void {
    this.inner.onResponseStarted?.();
  }

  onResponseStart(
    ...args: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseStart']>>
  ): void {
    const statusCode = args[1];
    // 1xx answers are interim; the final status follows.
    if (statusCode >= 200) {
      this.status = statusCode;
      if (this.labels.verb === 'watch') this.note(String(statusCode));
    }
    this.inner.onResponseStart?.(...args);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(
    ...args: Parameters<NonNullable<Dispatcher.DispatchHandler['onResponseEnd']>>
  ): void {
    this.note(String(this.status ?? 'error'));
    this.inner.onResponseEnd?.(...args);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    // An answer cut short still had its status; a request never answered has none.
    this.note(this.status === null ? 'error' : String(this.status));
    this.inner.onResponseError?.(controller, error);
  }

  onBodySent(chunk: Buffer): void {
    this.inner.onBodySent?.(chunk);
  }

  onRequestSent(): void {
    this.inner.onRequestSent?.();
  }

  private note(code: string): void {
    if (this.noted) return;
    this.noted = true;
    this.observe({ ...this.labels, code, seconds: (performance.now() - this.startedAt) / 1000 });
  }
}
