import { readFile } from 'node:fs/promises';
import { dirname, join, matchesGlob, normalize } from 'node:path';

import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { buildContext, ROOT } from '../support/build-context.ts';

/**
 * No container engine runs here, so the image is never built in these tests: they read
 * the Dockerfile and the build context .dockerignore leaves, and check what a build
 * relies on. Each role's entry point exists, every COPY finds its source, the code in
 * the context imports only files that are in it too, and the image runs as non-root
 * with production dependencies only.
 */

const ENTRY_POINTS = ['api', 'capture-worker', 'pod-worker', 'metrics-worker'].map(
  (service) => `services/${service}/src/main.ts`,
);

interface Stage {
  image: string;
  name: string | null;
  instructions: Instruction[];
}

let stages: Stage[];
let context: Set<string>;

beforeAll(async () => {
  stages = stagesOf(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
  context = await buildContext();
});

/** The Dockerfile's stages, each with the instructions after its FROM. */
function stagesOf(text: string): Stage[] {
  const found: Stage[] = [];

  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image = '', , name = null] = instruction.getArguments().map((a) => a.getValue());
      found.push({ image, name, instructions: [] });
    } else {
      found.at(-1)?.instructions.push(instruction);
    }
  }
  return found;
}

function finalStage(): Stage {
  const stage = stages.at(-1);
  if (!stage) throw new Error('the Dockerfile has no stage');
  return stage;
}

function withKeyword(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.getKeyword() === keyword);
}

function argumentsOf(instruction: Instruction): string[] {
  return instruction.getArguments().map((argument) => argument.getValue());
}

/** The stage (or image) a COPY --from reads, or null for the build context. */
function copiedFrom(instruction: Instruction): string | null {
  return (instruction as Copy).getFromFlag()?.getValue() ?? null;
}

/** A COPY's sources: its arguments but the last, the destination (flags are apart). */
function copySources(instruction: Instruction): string[] {
  return argumentsOf(instruction).slice(0, -1);
}

function copiesFromContext(stage: Stage): string[] {
  return withKeyword(stage, 'COPY')
    .filter((copy) => copiedFrom(copy) === null)
    .flatMap(copySources);
}

describe('Dockerfile', () => {
  it('builds in a node:24-slim stage and runs from a second one', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toBe('node:24-slim');
    expect(stages[0]?.name).toBe('build');
  });

  it('installs with npm ci and keeps production dependencies only in the image', () => {
    const build = stages[0] as Stage;
    const runs = withKeyword(build, 'RUN').map((run) => argumentsOf(run).join(' '));
    const finalRuns = withKeyword(finalStage(), 'RUN').map((run) => argumentsOf(run).join(' '));

    expect(runs.some((run) => run.startsWith('npm ci'))).toBe(true);
    expect(runs.at(-1)).toMatch(/npm prune --omit=dev/);
    expect(finalRuns.filter((run) => /\bnpm (ci|install|i)\b/.test(run))).toEqual([]);
    for (const copy of withKeyword(finalStage(), 'COPY')) expect(copiedFrom(copy)).toBe('build');
  });

  it('runs as a non-root user', () => {
    const users = withKeyword(finalStage(), 'USER').map((user) => argumentsOf(user)[0]);

    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('starts the API by default, from an exec-form CMD that exists in the context', () => {
    const [cmd, ...others] = withKeyword(finalStage(), 'CMD');
    const command = JSON.parse(cmd?.getArgumentsContent() ?? 'null') as string[];

    expect(others).toEqual([]);
    expect(withKeyword(finalStage(), 'ENTRYPOINT')).toEqual([]);
    expect(command).toEqual(['node', 'services/api/src/main.ts']);
    expect(context.has(command[1] ?? '')).toBe(true);
  });

  it('copies sources that exist and that .dockerignore lets into the context', () => {
    const sources = stages.flatMap(copiesFromContext);

    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      const path = normalize(source).replace(/\/$/, '');
      const present = context.has(path) || [...context].some((f) => f.startsWith(`${path}/`));
      expect(present, `${source} in the build context`).toBe(true);
    }
  });

  it('copies every workspace manifest, since npm ci needs them all', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    const copied = new Set(copiesFromContext(stages[0] as Stage));
    const workspaceManifests = [...context].filter((path) =>
      manifest.workspaces.some((glob) => matchesGlob(path, `${glob}/package.json`)),
    );

    expect(workspaceManifests.length).toBeGreaterThanOrEqual(5);
    for (const path of workspaceManifests) expect(copied, path).toContain(path);
  });
});

describe('the build context', () => {
  it('holds every entry point and no tests, local state or dependencies', () => {
    for (const entry of ENTRY_POINTS) expect(context.has(entry), entry).toBe(true);

    const unwanted = [...context].filter((path) =>
      /(\.test\.ts$|^test\/|^\.local\/|node_modules\/|^\.git\/|^k8s\/)/.test(path),
    );
    expect(unwanted).toEqual([]);
  });

  it('holds every file the code in it imports by a relative path', async () => {
    const missing: string[] = [];

    for (const path of [...context].filter((p) => p.endsWith('.ts'))) {
      const source = await readFile(join(ROOT, path), 'utf8');
      for (const [, specifier = ''] of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = normalize(join(dirname(path), specifier));
        if (!context.has(target)) missing.push(`${path} -> ${specifier}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('holds the entry point of every Kubernetes Deployment in k8s/base', async () => {
    const commands: string[][] = [];

    for (const file of ['api.yaml', 'workers.yaml']) {
      const text = await readFile(join(ROOT, 'k8s', 'base', file), 'utf8');
      for (const document of parseAllDocuments(text)) {
        const object = document.toJS() as DeploymentShape;
        if (object.kind !== 'Deployment') continue;
        commands.push(...object.spec.template.spec.containers.map((c) => c.command ?? []));
      }
    }

    expect(commands.map((command) => command[1]).sort()).toEqual([...ENTRY_POINTS].sort());
    for (const command of commands) expect(command[0]).toBe('node');
  });
});

interface DeploymentShape {
  kind: string;
  spec: { template: { spec: { containers: { command?: string[] }[] } } };
}
