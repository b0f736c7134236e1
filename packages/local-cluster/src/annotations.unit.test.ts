import { describe, expect, it } from 'vitest';
import {
  DEFAULT_READY_AFTER_SECONDS,
  EXIT_ANNOTATION,
  parsePodDirectives,
  READY_AFTER_ANNOTATION,
  unknownContainerProblems,
  USAGE_ANNOTATION,
  WAITING_ANNOTATION,
} from './annotations.ts';

describe('parsePodDirectives', () => {
  it('reads every directive of a well-formed pod', () => {
    const { directives, problems } = parsePodDirectives({
      [EXIT_ANNOTATION]: 'data-loader=0@2, trainer=137@0.5',
      [WAITING_ANNOTATION]: 'sidecar=ImagePullBackOff',
      [READY_AFTER_ANNOTATION]: '3',
      [USAGE_ANNOTATION]: 'trainer=900m/1536Mi,model-monitor=0.02/64Mi',
    });

    expect(problems).toEqual([]);
    expect(directives.exits.get('data-loader')).toEqual({ exitCode: 0, afterSeconds: 2 });
    expect(directives.exits.get('trainer')).toEqual({ exitCode: 137, afterSeconds: 0.5 });
    expect(directives.waiting.get('sidecar')).toBe('ImagePullBackOff');
    expect(directives.readyAfterSeconds).toBe(3);
    expect(directives.usage.get('trainer')).toEqual({
      cpuNanocores: 900_000_000,
      memoryBytes: 1536 * 2 ** 20,
    });
    expect(directives.usage.get('model-monitor')).toEqual({
      cpuNanocores: 20_000_000,
      memoryBytes: 64 * 2 ** 20,
    });
  });

  it('defaults to no directives and a one second readiness delay', () => {
    const { directives, problems } = parsePodDirectives(undefined);

    expect(problems).toEqual([]);
    expect(directives.exits.size).toBe(0);
    expect(directives.waiting.size).toBe(0);
    expect(directives.usage.size).toBe(0);
    expect(directives.readyAfterSeconds).toBe(DEFAULT_READY_AFTER_SECONDS);
  });

  it('ignores empty entries left by trailing commas', () => {
    const { directives, problems } = parsePodDirectives({ [EXIT_ANNOTATION]: 'main=1@1,' });

    expect(problems).toEqual([]);
    expect(directives.exits.size).toBe(1);
  });

  it('reports malformed entries and keeps the valid ones', () => {
    const { directives, problems } = parsePodDirectives({
      [EXIT_ANNOTATION]: 'main=1@1,broken,other=300@1,last=1@soon',
      [WAITING_ANNOTATION]: 'side=pulling image',
      [USAGE_ANNOTATION]: 'main=lots/1Gi,side=100m',
      [READY_AFTER_ANNOTATION]: '-1',
    });

    expect(directives.exits).toEqual(new Map([['main', { exitCode: 1, afterSeconds: 1 }]]));
    expect(directives.waiting.size).toBe(0);
    expect(directives.usage.size).toBe(0);
    expect(directives.readyAfterSeconds).toBe(DEFAULT_READY_AFTER_SECONDS);
    expect(problems.map((problem) => problem.annotation)).toEqual([
      EXIT_ANNOTATION,
      EXIT_ANNOTATION,
      EXIT_ANNOTATION,
      WAITING_ANNOTATION,
      READY_AFTER_ANNOTATION,
      USAGE_ANNOTATION,
      USAGE_ANNOTATION,
    ]);
    expect(problems[0]?.message).toContain('"broken"');
    expect(problems[1]?.message).toContain('other');
  });

  it('keeps the first of duplicated containers and says so', () => {
    const { directives, problems } = parsePodDirectives({ [EXIT_ANNOTATION]: 'main=1@1,main=2@2' });

    expect(directives.exits.get('main')).toEqual({ exitCode: 1, afterSeconds: 1 });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toContain('twice');
  });

  it('rejects names that are not container names', () => {
    const { problems } = parsePodDirectives({ [EXIT_ANNOTATION]: 'Main=1@1,=1@1' });

    expect(problems).toHaveLength(2);
  });
});

describe('unknownContainerProblems', () => {
  it('flags directives for containers the pod does not have', () => {
    const { directives } = parsePodDirectives({
      [EXIT_ANNOTATION]: 'main=0@1',
      [USAGE_ANNOTATION]: 'mian=1/1Mi',
    });

    const problems = unknownContainerProblems(directives, ['main']);

    expect(problems).toEqual([
      { annotation: USAGE_ANNOTATION, message: 'the pod has no container named mian' },
    ]);
  });
});
