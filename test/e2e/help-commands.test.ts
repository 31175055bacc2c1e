/**
 * Help through the built bin (issue 21, item 4): every command's `--help` and `help COMMAND` exit 0 and
 * print that command's usage; `--help` lists every command; an unknown command is named, with the nearest
 * known one, and exits 2. No schema library text ("Invalid enum value", "Expected '…'") anywhere.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_HELP, COMMAND_NAMES } from '../../src/commands/help.js';
import { runPiped } from '../helpers/terminal.js';

const ZOD = /Invalid enum value|Expected '|received '/;

describe('help for every command', () => {
  it('--help lists every command, each at the start of a line', async () => {
    const r = await runPiped(['--help'], {});
    expect(r.code, r.stderr).toBe(0);
    for (const name of COMMAND_NAMES) expect(r.stdout, name).toMatch(new RegExp(`^ {2}${name}\\b`, 'm'));
    expect(r.stdout).toMatch(/^ {2}list \[--json\]/m);
    expect(r.stdout).toMatch(/^ {2}import-openapi SPEC\.json/m);
    expect(r.stdout + r.stderr).not.toMatch(ZOD);
  });

  it.each(COMMAND_NAMES)('%s --help and help %s: exit 0 with its usage', async (name) => {
    const synopsis = COMMAND_HELP[name].split('\n')[0];
    for (const args of [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
    ]) {
      const r = await runPiped(args, {});
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: ${synopsis}`);
      expect(r.stdout + r.stderr).not.toMatch(ZOD);
    }
  });

  it('options before the command are skipped with their values; --help after `--` is no help', async () => {
    const call = `Usage: ${COMMAND_HELP.call.split('\n')[0]}`;
    for (const args of [
      ['--sandbox', 'call', 'phaya_text_to_image', '--help'],
      ['--log-level', 'warn', 'call', '-h'],
    ]) {
      const r = await runPiped(args, {});
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).toContain(call);
    }
    const after = await runPiped(['call', 'phaya_text_to_image', '--', '--help'], {});
    expect(after.stdout).not.toContain(call);
    expect(after.code).not.toBe(0);
  });

  it('help alone is the whole usage', async () => {
    const r = await runPiped(['help'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: mediagen-mcp \[command\] \[options\]/);
    expect(r.stdout).toContain('Exit codes:');
  });

  it('an unknown command, with or without --help, is named with the nearest one: exit 2', async () => {
    for (const args of [['tokens', '--help'], ['tokens'], ['help', 'tokens']]) {
      const r = await runPiped(args, {});
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('unknown command "tokens" (did you mean "token"?)');
      expect(r.stdout + r.stderr).not.toMatch(ZOD);
    }
  });

  it('a bad flag value is said without the schema library', async () => {
    const r = await runPiped(['--log-level', 'loud'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"loud" is not one of debug | info | warn | error');
    expect(r.stderr).not.toMatch(ZOD);
  });
});
