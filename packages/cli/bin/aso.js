#!/usr/bin/env node
// The launcher stays plain JavaScript that any Node can parse, so that an older Node
// prints what to do instead of failing on the TypeScript it cannot run.
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);

if (major < REQUIRED_MAJOR) {
  process.stderr.write(
    `aso: this is Node.js ${process.versions.node}; aso needs Node.js ${REQUIRED_MAJOR} or later ` +
      '(it runs its TypeScript directly). In the repository, run ' +
      '"bash scripts/install-node.sh && export PATH=\\"$PWD/.local/node/bin:$PATH\\"" and try again.\n',
  );
  process.exit(2);
}

const { main } = await import('../src/main.ts');
const code = await main(process.argv.slice(2));
// Idle keep-alive sockets of fetch would hold the process open a few seconds more.
process.stdout.write('', () => process.exit(code));
