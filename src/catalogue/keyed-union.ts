/** A zod union that picks its member by a cheap look at the value (for catalogue price expressions). */
import { z, type ZodTypeAny } from 'zod';

type Members = readonly [ZodTypeAny, ZodTypeAny, ...ZodTypeAny[]];
interface KeyedUnionDef<T extends Members> extends z.ZodUnionDef<T> {
  /** Index of the member this value belongs to, or -1 when the value does not say. */
  pick: (value: unknown) => number;
}

/**
 * A union whose member is chosen by a cheap look at the value (which key it has, or its type), so a valid
 * catalogue parses one member per price instead of trying each and building error objects for the misses.
 * It stays a ZodUnion, so catalogues/schema.json and the inferred type are unchanged; a value that names
 * no member falls back to the plain union and its error reporting.
 */
class KeyedUnion<T extends Members> extends z.ZodUnion<T> {
  override _parse(input: z.ParseInput): z.ParseReturnType<this['_output']> {
    const def = this._def as KeyedUnionDef<T>;
    const i = def.pick(input.data);
    const member = i >= 0 ? def.options[i] : undefined;
    return member ? (member._parse(input) as z.ParseReturnType<this['_output']>) : super._parse(input);
  }
}

export function keyedUnion<T extends Members>(options: T, pick: (value: unknown) => number): z.ZodUnion<T> {
  const def: KeyedUnionDef<T> = { options, pick, typeName: z.ZodFirstPartyTypeKind.ZodUnion };
  return new KeyedUnion(def);
}

/** The member named by exactly one of `keys` present in an object value. */
export const byKey =
  (keys: readonly string[]) =>
  (v: unknown): number => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return -1;
    const hits = keys.filter((k) => k in v);
    return hits.length === 1 ? keys.indexOf(hits[0]) : -1;
  };
