// The root SKILL.md (OpenClaw's and ClawHub's copy) from skills/mediagen-mcp/SKILL.md, as a pure function.
// The source keeps the Agent Skills form: `metadata` a map of strings, its `openclaw` entry one JSON string.
// OpenClaw 2026.9.6 reads `metadata` only as one string holding {"openclaw": {...}}, so the root copy gets
// that form; everything else (front matter and body) is the same, the body's links pointing into the folder.
// Line ends: LF or CRLF (the copy is written with LF).

/** The front matter and body of a SKILL.md; throws when it has no front matter. */
export function splitSkill(source, name = 'SKILL.md') {
  const text = source.replace(/\r\n/g, '\n');
  const m = /^(---\n[^]*?\n---\n)([^]*)$/.exec(text);
  if (!m) throw new Error(`${name}: no front matter`);
  return { front: m[1], body: m[2] };
}

const METADATA = /^metadata:\n {2}openclaw: '([^'\n]*)'\n/m;

/** The OpenClaw copy of the skill at `dir` (e.g. skills/mediagen-mcp), from its source text. */
export function rootSkill(source, dir) {
  const { front, body } = splitSkill(source, `${dir}/SKILL.md`);
  const m = METADATA.exec(front);
  if (!m) throw new Error(`${dir}/SKILL.md: no "metadata:" map with one "openclaw: '<JSON>'" entry`);
  const openclaw = JSON.parse(m[1]);
  const line = `metadata: '${JSON.stringify({ openclaw }).replace(/'/g, "''")}'\n`;
  const note = `<!-- Generated from ${dir}/SKILL.md by node scripts/skill-tables.mjs: edit that one. -->\n`;
  const links = body.replace(/\]\(references\//g, `](${dir}/references/`);
  return `${front.replace(METADATA, line)}${note}${links}`;
}
