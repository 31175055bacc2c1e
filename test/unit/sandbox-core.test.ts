import { describe, it, expect } from 'vitest';
import { inflateSync } from 'node:zlib';
import { findFaults, rejectingFault } from '../../src/sandbox/faults.js';
import { JobStore } from '../../src/sandbox/jobs.js';
import { crc32, makePng, makeWav, mediaFile } from '../../src/sandbox/media.js';
import { startSandbox } from '../../src/sandbox/index.js';

describe('sandbox core: fault markers', () => {
  it('finds every marker anywhere in the text, case-insensitively, with 503 as an alias of 5xx', () => {
    expect([...findFaults('a cat sandbox:fail on a SANDBOX:Slow day')].sort()).toEqual(['fail', 'slow']);
    expect([...findFaults('sandbox:503')]).toEqual(['5xx']);
    expect(findFaults('sandbox:nonsense sandbox: fail').size).toBe(0);
    expect(findFaults(undefined).size).toBe(0);
    expect(findFaults(42).size).toBe(0);
  });

  it('orders rejecting faults 429 > 5xx > credits > badparams and ignores the rest', () => {
    expect(rejectingFault(findFaults('sandbox:badparams sandbox:credits sandbox:429'))).toBe('429');
    expect(rejectingFault(findFaults('sandbox:credits sandbox:5xx'))).toBe('5xx');
    expect(rejectingFault(findFaults('sandbox:fail sandbox:slow sandbox:timeout'))).toBeUndefined();
  });
});

describe('sandbox core: job store', () => {
  it('moves queued -> running -> done by polls, per provider', () => {
    const jobs = new JobStore(3);
    const job = jobs.create('p', 'x-', 'success', { a: 1 });
    expect(job.id).toMatch(/^x-[0-9a-f]{24}$/);
    expect(jobs.poll('other', job.id)).toBeUndefined();
    expect([1, 2, 3, 4].map(() => jobs.poll('p', job.id)?.phase)).toEqual(['queued', 'running', 'done', 'done']);
    expect(jobs.size()).toBe(1);
    jobs.clear();
    expect(jobs.get('p', job.id)).toBeUndefined();
  });

  it('is done on the first poll when pollsToComplete is 1, and cancels only unfinished jobs', () => {
    const jobs = new JobStore(1);
    const a = jobs.create('p', '', 'failure', {});
    expect(jobs.poll('p', a.id)?.phase).toBe('done');
    expect(jobs.cancel('p', a.id)).toBe(false);
    const b = jobs.create('p', '', 'success', {});
    expect(jobs.cancel('p', b.id)).toBe(true);
    expect(jobs.poll('p', b.id)?.phase).toBe('cancelled');
  });

  it('rejects a pollsToComplete below 1 at start-up', async () => {
    await expect(startSandbox({ pollsToComplete: 0 })).rejects.toThrow(RangeError);
  });
});

describe('sandbox core: media', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789', 'ascii'))).toBe(0xcbf43926);
  });

  it('builds a valid PNG whose pixel data inflates to height * (1 + 3 * width) bytes', () => {
    const png = makePng(16, 8);
    expect(png.readUInt32BE(16)).toBe(16);
    expect(png.readUInt32BE(20)).toBe(8);
    const idatLen = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('ascii')).toBe('IDAT');
    expect(crc32(png.subarray(37, 41 + idatLen))).toBe(png.readUInt32BE(41 + idatLen));
    expect(inflateSync(png.subarray(41, 41 + idatLen)).length).toBe(8 * (1 + 3 * 16));
    expect(png.subarray(-8, -4).toString('ascii')).toBe('IEND');
  });

  it('builds a PCM WAV of the requested length', () => {
    const wav = makeWav(0.5, 8000, 440);
    expect(wav.length).toBe(44 + 8000);
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.readUInt16LE(20)).toBe(1);
  });

  it('embeds a small H.264 MP4', async () => {
    const mp4 = await mediaFile('sample.mp4');
    expect(mp4?.contentType).toBe('video/mp4');
    expect(mp4?.data.subarray(4, 8).toString('ascii')).toBe('ftyp');
    expect(mp4?.data.includes(Buffer.from('avc1'))).toBe(true);
    expect(mp4?.data.length).toBeLessThan(8 * 1024);
  });
});
