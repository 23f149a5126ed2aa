/**
 * A MongoDB target's `collectionName` must map distinct backed-up collections to distinct target
 * collections: two mapped to one would be merged (documents of one replacing the other's by
 * `_id`, a restore reporting every record written and no warning). Checked in `prepare` for a
 * snapshot's collections (before anything is written), and for the namespaces of streamed changes
 * as they are checked (`check`, before a point-in-time restore or `restoreStream` writes) and
 * applied (a namespace only deletes name: before that batch is written).
 */
import { invalidOption } from '@steadyfn/handler/internal';

/**
 * A checker of `rename` over the names it meets (remembered across calls: a collision is a
 * property of the mapping, whichever restore meets it).
 * @throws {ConfigurationError} (`CONFIG_INVALID`, field `collectionName`) two names mapped to one
 */
export function distinctTargetNames(rename: (name: string) => string): (names: Iterable<string>) => void {
  const sourceOf = new Map<string, string>();
  return (names) => {
    for (const name of names) {
      const target = rename(name);
      const other = sourceOf.get(target);
      if (other === undefined) sourceOf.set(target, name);
      else if (other !== name) {
        invalidOption(
          'mongoTarget',
          'collectionName',
          `a function mapping each backed-up collection to its own target collection (it maps ${JSON.stringify(other)} and ${JSON.stringify(name)} both to ${JSON.stringify(target)}: their documents would be merged, one replacing the other's by _id); refused before writing them`,
          rename,
        );
      }
    }
  };
}
