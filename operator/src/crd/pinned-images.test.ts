// Every image the project builds on or deploys by default is pinned by digest, and the API and operator
// images are built so that they carry no package manager (hack/images.sh checks the built images too).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_REDIS_IMAGE } from './defaults.js';

const DIGEST = /^[^\s@]+:[^\s@]+@sha256:[0-9a-f]{64}$/;
const dockerfile = (name: string): string =>
  readFileSync(new URL(`../../../${name}`, import.meta.url), 'utf8');

it('pins the default Redis image by digest', () => {
  expect(DEFAULT_REDIS_IMAGE).toMatch(DIGEST);
});

describe.each(['Dockerfile.api', 'Dockerfile.operator'])('%s', (name) => {
  const text = dockerfile(name);
  const stages = text.split(/^(?=FROM )/m).slice(1);
  const final = stages.at(-1) ?? '';

  it('pins its base image by digest in one overridable build argument', () => {
    const args = [...text.matchAll(/^ARG BASE_IMAGE=(\S+)$/gm)].map((m) => m[1]);
    expect(args).toHaveLength(1);
    expect(args[0]).toMatch(DIGEST);
    // Every stage but the last starts from that argument, never from a tag of its own.
    for (const stage of stages.slice(0, -1)) expect(stage).toMatch(/^FROM \$\{BASE_IMAGE\} AS [\w-]+\n/);
  });

  it('ends in an empty image holding the base without npm, corepack, yarn, apt or dpkg', () => {
    expect(final).toMatch(/^FROM scratch\nCOPY --from=runtime-root \/ \/\n/);
    const strip = stages.find((s) => s.startsWith('FROM ${BASE_IMAGE} AS runtime-root')) ?? '';
    for (const path of [
      '/usr/local/lib/node_modules',
      '/usr/local/bin/npm',
      '/usr/local/bin/npx',
      '/usr/local/bin/corepack',
      '/usr/local/bin/yarn',
      '/usr/bin/apt',
      '/usr/bin/dpkg',
    ]) {
      expect(strip).toContain(` ${path} `);
    }
    const instructions = final.replace(/^#.*\n/gm, '');
    expect(instructions).not.toMatch(/\b(npm|npx|apt-get|dpkg)\b/);
    expect(final).toMatch(/^CMD \["node", "dist\/\w+\/main\.js"\]$/m);
  });
});
