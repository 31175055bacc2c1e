import { describe, expect, it } from 'vitest';
import { loadCatalogueFile } from '../../src/catalogue/load.js';
import { normaliseStatus } from '../../src/jobs/status.js';
import { MEDIAIO_FILE } from '../helpers/paths.js';

const mediaioJob = loadCatalogueFile(MEDIAIO_FILE).operations.find((o) => o.job)!.job!;

describe('status normalisation', () => {
  it.each([
    // Media.io (catalogue words)
    ['waiting', 'pending'],
    ['pending', 'pending'],
    ['processing', 'running'],
    ['completed', 'succeeded'],
    ['succeeded', 'succeeded'],
    ['failed', 'failed'],
    ['timeout', 'failed'],
  ])('Media.io %s -> %s', (word, expected) => {
    expect(normaliseStatus(word, mediaioJob)).toBe(expected);
  });

  it.each([
    // Phaya image/music/speech/subtitle families (UPPER case)
    ['PENDING', 'pending'],
    ['QUEUED', 'pending'],
    ['PROCESSING', 'running'],
    ['COMPLETED', 'succeeded'],
    ['FAILED', 'failed'],
    // Phaya video/download/Seedream/Nano Banana families (lower case) and cancellable ones
    ['processing', 'running'],
    ['completed', 'succeeded'],
    ['failed', 'failed'],
    ['cancelled', 'cancelled'],
    // ph0ny
    ['pending', 'pending'],
    ['processing', 'running'],
    ['completed', 'succeeded'],
    ['failed', 'failed'],
    // common synonyms
    ['canceled', 'cancelled'],
    ['in_progress', 'running'],
    ['  Completed ', 'succeeded'],
  ])('shared vocabulary %j -> %s', (word, expected) => {
    expect(normaliseStatus(word)).toBe(expected);
  });

  it('catalogue words win over the shared vocabulary', () => {
    const spec = { words: { pending: [], running: ['done'], succeeded: [], failed: [], cancelled: [] } };
    expect(normaliseStatus('done', spec)).toBe('running');
  });

  it.each([['mystery'], [''], [undefined], [null], [{}]])(
    'unknown word %j -> undefined (the caller keeps it and treats the job as running)',
    (w) => {
      expect(normaliseStatus(w)).toBeUndefined();
    },
  );
});
