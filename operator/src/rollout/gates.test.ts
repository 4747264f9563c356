import { describe, expect, it } from '@jest/globals';
import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { gateActor, gateManagedFields, pauseRequested } from './gates.js';

const owning = (manager: string, ...annotations: string[]): V1ManagedFieldsEntry => ({
  manager,
  operation: 'Update',
  time: new Date('2026-03-01T12:00:00Z'),
  fieldsType: 'FieldsV1',
  fieldsV1: {
    'f:metadata': { 'f:annotations': Object.fromEntries(annotations.map((a) => [`f:${a}`, {}])) },
    'f:spec': { 'f:image': {} },
  },
});

describe('who set a gate', () => {
  it('names the field manager that owns the annotation', () => {
    const metadata = {
      managedFields: [owning('test-user'), owning('kubectl-annotate', 'hello.dev/promote', 'team/owner')],
    };
    expect(gateActor(metadata, 'hello.dev/promote')).toBe(' by kubectl-annotate');
    expect(gateActor(metadata, 'hello.dev/abort')).toBe('');
    expect(gateActor(undefined, 'hello.dev/abort')).toBe('');
  });

  it('keeps only the gate annotations of the entries that own one', () => {
    const kept = gateManagedFields({
      managedFields: [owning('test-user'), owning('kubectl-hw', 'hello.dev/pause', 'team/owner')],
    });
    expect(kept).toEqual([
      {
        manager: 'kubectl-hw',
        operation: 'Update',
        time: new Date('2026-03-01T12:00:00Z'),
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:hello.dev/pause': {} } } },
      },
    ]);
    expect(gateManagedFields({ managedFields: [owning('test-user')] })).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['no fieldsV1', undefined],
    ['a string', 'f:metadata'],
    ['metadata null', { 'f:metadata': null }],
    ['annotations a number', { 'f:metadata': { 'f:annotations': 7 } }],
    ['keys without f:', { 'f:metadata': { 'f:annotations': { 'hello.dev/promote': {} } } }],
  ])('reads no one from malformed managedFields (%s)', (_what, fieldsV1) => {
    const metadata = { managedFields: [{ manager: 'x', fieldsV1 } as V1ManagedFieldsEntry] };
    expect(gateActor(metadata, 'hello.dev/promote')).toBe('');
    expect(gateManagedFields(metadata)).toBeUndefined();
  });

  it('prints a hostile manager name as printable ASCII, 64 characters at most', () => {
    const manager = `evil\u001b[31m\nname\u202e${'x'.repeat(200)}`;
    const actor = gateActor({ managedFields: [owning(manager, 'hello.dev/abort')] }, 'hello.dev/abort');
    expect(actor).toMatch(/^ by evil\[31mnamex+$/);
    expect(actor.length).toBe(' by '.length + 64);
  });
});

describe('hello.dev/pause', () => {
  it.each<[Record<string, string>, boolean]>([
    [{}, false],
    [{ 'hello.dev/pause': 'true' }, true],
    [{ 'hello.dev/pause': '' }, false],
    [{ 'hello.dev/pause': 'yes please' }, true],
    [{ 'hello.dev/pause': 'false' }, false],
    [{ 'hello.dev/pause': ' FALSE ' }, false],
  ])('%j holds the rollout: %s', (annotations, paused) => {
    expect(pauseRequested(annotations)).toBe(paused);
  });
});
