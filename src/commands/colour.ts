/**
 * Colour for a person at a terminal: prices, the consent question and errors. Only on a TTY, never with
 * `--json`, never when NO_COLOR is set to anything non-empty (https://no-color.org), FORCE_COLOR=0 or
 * TERM=dumb.
 */
export interface Paint {
  /** A price or an amount of credits. */
  price(s: string): string;
  /** The consent question. */
  ask(s: string): string;
  error(s: string): string;
  ok(s: string): string;
  dim(s: string): string;
}

const sgr =
  (open: string) =>
  (s: string): string =>
    s ? `\x1b[${open}m${s}\x1b[0m` : s;

const plain: Paint = { price: (s) => s, ask: (s) => s, error: (s) => s, ok: (s) => s, dim: (s) => s };
const coloured: Paint = {
  price: sgr('1;33'),
  ask: sgr('1;36'),
  error: sgr('1;31'),
  ok: sgr('32'),
  dim: sgr('2'),
};

export function colourWanted(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
  json = false,
): boolean {
  if (json || stream.isTTY !== true) return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  return env.TERM !== 'dumb';
}

export function paintFor(stream: { isTTY?: boolean }, json = false, env = process.env): Paint {
  return colourWanted(stream, env, json) ? coloured : plain;
}

/** Amounts of credits (`6 credits`, `2–35 credits`, `0.5 credit`) in a text, painted as prices. */
export function paintPrices(text: string, paint: Paint): string {
  return text.replace(/\b\d+(?:\.\d+)?(?:\s?[–-]\s?\d+(?:\.\d+)?)? credits?\b/g, (m) => paint.price(m));
}

/** A tool's answer for a person: the error line red, a final success green, credits as prices. */
export function paintResult(text: string, isError: boolean, paint: Paint): string {
  const lines = text.split('\n');
  if (isError && lines.length) lines[0] = paint.error(lines[0]);
  return lines
    .map((l, i) => {
      if (i === 0 && isError) return l;
      const done = /^Job \S+ \(\S+\) (succeeded|failed|cancelled)\.$/.exec(l);
      if (done) return done[1] === 'succeeded' ? paint.ok(l) : paint.error(l);
      return paintPrices(l, paint);
    })
    .join('\n');
}
