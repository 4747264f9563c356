import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { MAX_PATH_LENGTH, PATH_PATTERN_SOURCE, unsafePathReason } from './path-rules.js';
import { HOSTILE_PATHS, SAFE_PATHS } from '../../../test/support/hostile-paths.js';

describe('unsafePathReason', () => {
  it.each(HOSTILE_PATHS)('refuses %j, saying why', (path, why) => {
    expect(unsafePathReason(path)).toMatch(why);
  });

  it.each(SAFE_PATHS)('accepts %j', (path) => {
    expect(unsafePathReason(path)).toBeUndefined();
  });

  it('refuses a path longer than the CRD allows', () => {
    expect(unsafePathReason(`/${'a'.repeat(MAX_PATH_LENGTH)}`)).toMatch(/longer than 2048/);
  });
});

describe('the CRD', () => {
  const crd = parse(
    readFileSync(new URL('../../../crds/hello.dev_helloworlds.yaml', import.meta.url), 'utf8'),
  ) as { spec: { versions: { schema: { openAPIV3Schema: unknown } }[] } };
  let path: unknown = crd.spec.versions[0]?.schema.openAPIV3Schema;
  for (const key of ['spec', 'rollout', 'verification', 'smoke', 'checks', 'path']) {
    const node = path as {
      properties?: Record<string, unknown>;
      items?: { properties: Record<string, unknown> };
    };
    path = node.properties?.[key] ?? node.items?.properties[key];
  }
  const schema = path as { pattern: string; maxLength: number };

  it('has the same allow-list pattern and length limit as the operator', () => {
    expect(schema.pattern).toBe(PATH_PATTERN_SOURCE);
    expect(schema.maxLength).toBe(MAX_PATH_LENGTH);
  });
});
