import { describe, expect, it } from 'vitest';
import { ManifestMemory } from '../../src/targets/manifest-memory.js';

const bytes = (size: number) => new Uint8Array(size);

describe('the manifests a registry target remembers', () => {
  it('forgets the oldest past the count', () => {
    const memory = new ManifestMemory(2, 1000);
    memory.remember('a', bytes(1));
    memory.remember('b', bytes(1));
    memory.remember('c', bytes(1));
    expect(memory.get('a')).toBeUndefined();
    expect(memory.get('b')).toHaveLength(1);
    expect(memory.get('c')).toHaveLength(1);
  });

  it('forgets the oldest until what it holds fits in its bytes', () => {
    const memory = new ManifestMemory(100, 10);
    memory.remember('a', bytes(4));
    memory.remember('b', bytes(4));
    memory.remember('c', bytes(4));
    expect(memory.get('a')).toBeUndefined();
    expect(memory.get('b')).toHaveLength(4);
    expect(memory.get('c')).toHaveLength(4);
  });

  it('keeps nothing of one manifest larger than all it may hold, and forgets nothing for it', () => {
    const memory = new ManifestMemory(100, 10);
    memory.remember('a', bytes(6));
    memory.remember('huge', bytes(11));
    expect(memory.get('huge')).toBeUndefined();
    expect(memory.get('a')).toHaveLength(6);
  });

  it('counts a manifest remembered twice once', () => {
    const memory = new ManifestMemory(100, 10);
    memory.remember('a', bytes(6));
    memory.remember('a', bytes(6));
    memory.remember('b', bytes(4));
    expect(memory.get('a')).toHaveLength(6);
    expect(memory.get('b')).toHaveLength(4);
  });
});
