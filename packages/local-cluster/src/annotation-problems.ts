import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { DirectiveProblem, ParsedDirectives } from './annotations.ts';
import { unknownContainerProblems } from './annotations.ts';
import { describeError } from './api-errors.ts';
import { recordPodEvent } from './events.ts';

/**
 * Reports invalid simulator annotations once per annotation content: a log warning and
 * a Warning Event on the pod, so `kubectl describe pod` shows what was ignored.
 */
export interface ProblemReporter {
  report(pod: V1Pod, parsed: ParsedDirectives): Promise<void>;
}

function allProblems(pod: V1Pod, parsed: ParsedDirectives): DirectiveProblem[] {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const names = containers.map((container) => container.name);
  return [...parsed.problems, ...unknownContainerProblems(parsed.directives, names)];
}

export function problemReporter(core: CoreV1Api, logger: Logger): ProblemReporter {
  let reported: string | undefined;

  return {
    report: async (pod, parsed) => {
      const annotations = JSON.stringify(pod.metadata?.annotations ?? {});
      const problems = allProblems(pod, parsed);
      if (problems.length === 0 || annotations === reported) {
        return;
      }

      reported = annotations;
      for (const { annotation, message } of problems) {
        logger.warn({ annotation }, `ignoring invalid simulator annotation: ${message}`);
        const event = {
          reason: 'SimulatorAnnotationInvalid',
          message: `${annotation}: ${message}`,
          type: 'Warning' as const,
        };
        // Events are best effort, as in the kubelet: a refused event must not stall the pod.
        await recordPodEvent(core, pod, event).catch((error: unknown) => {
          logger.debug({ error: describeError(error) }, 'could not record event');
        });
      }
    },
  };
}
