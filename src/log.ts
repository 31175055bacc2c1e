/** stderr-only logger: in stdio mode stdout carries nothing but MCP messages. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Strings that must never reach a log line (API keys, bearer tokens). */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const live = secrets.filter((s) => s.length >= 4);
  return (text) => live.reduce((acc, s) => acc.split(s).join('[redacted]'), text);
}

export function createLogger(
  level: Level = 'info',
  secrets: readonly string[] = [],
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const redact = redactor(secrets);
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const tail = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : '';
    write(redact(`[mediagen-mcp] ${lvl}: ${msg}${tail}`));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
