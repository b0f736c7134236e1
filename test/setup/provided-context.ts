/** Values the e2e global setup hands to every test file through vitest's inject(). */
declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the run's local cluster (in its temp dir). */
    kubeconfigPath: string;
    /** https://127.0.0.1:<port> of its apiserver. */
    server: string;
  }
}

export {};
